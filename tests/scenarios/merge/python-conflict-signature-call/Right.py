def alpha():
    value = 1
    return value


def beta():
    value = 2
    return value


def omega():
    return beta()
