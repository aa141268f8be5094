def alpha():
    value = 1
    return value


<<<<<<< left
||||||| base
def beta():
    value = 2
    return value
=======
def beta():
    value = 20
    return value
>>>>>>> right


def gamma():
    value = 3
    return value
