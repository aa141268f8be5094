def alpha():
    value = 1
    return value


def gamma():
    value = 3
    return value


def beta():
    value = 2
    return value
