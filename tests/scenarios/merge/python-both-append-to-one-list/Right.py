PLUGINS = [
    "alpha",
    "beta",
    "delta",
]


def names():
    return list(PLUGINS)
