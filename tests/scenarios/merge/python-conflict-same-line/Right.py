def alpha():
    value = 11
    return value


def beta():
    value = 2
    return value
