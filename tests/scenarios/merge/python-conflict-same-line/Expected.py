def alpha():
<<<<<<< left
    value = 10
||||||| base
    value = 1
=======
    value = 11
>>>>>>> right
    return value


def beta():
    value = 2
    return value
