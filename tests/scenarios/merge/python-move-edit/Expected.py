def gamma():
    value = 30
    return value


def alpha():
    value = 1
    return value


def beta():
    value = 2
    return value
