def alpha():
    value = 1
    return value


# crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in omega uses the old ones.
def beta(x):
    value = 2
    return value


# crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in omega uses the old ones.
def omega():
    return beta()
