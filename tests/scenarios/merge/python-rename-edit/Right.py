def alpha():
    value = 1
    return value


def beta():
    value = 20
    return value
