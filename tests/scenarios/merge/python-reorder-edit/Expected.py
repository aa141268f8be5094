def gamma():
    value = 3
    return value


def beta():
    value = 20
    return value


def alpha():
    value = 10
    return value
