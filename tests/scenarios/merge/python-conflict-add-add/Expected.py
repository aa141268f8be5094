def alpha():
    value = 1
    return value


def beta():
    value = 2
    return value


<<<<<<< left
def gamma():
    value = 3
    return value
||||||| base
=======
def gamma():
    value = 33
    return value
>>>>>>> right
