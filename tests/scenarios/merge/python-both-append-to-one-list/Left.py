PLUGINS = [
    "alpha",
    "beta",
    "gamma",
]


def names():
    return list(PLUGINS)
