PLUGINS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
]


def names():
    return list(PLUGINS)
