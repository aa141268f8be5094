def alpha():
    value = 1
    return value


def beta_total():
    value = 20
    return value
