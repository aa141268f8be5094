# crdtspace dangling-reference: left renamed alpha to first, but right's new code in omega uses it.
def first():
    value = 1
    return value


def beta():
    value = 2
    return value


# crdtspace dangling-reference: left renamed alpha to first, but right's new code in omega uses it.
def omega():
    return alpha()
