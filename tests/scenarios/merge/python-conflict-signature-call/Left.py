def alpha():
    value = 1
    return value


def beta(x):
    value = 2
    return value
