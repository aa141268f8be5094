def alpha():
    value = 10
    return value


def beta():
    value = 2
    return value
