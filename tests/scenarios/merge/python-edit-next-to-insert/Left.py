def alpha():
    value = 1
    return value * 2


def beta():
    value = 2
    return value
