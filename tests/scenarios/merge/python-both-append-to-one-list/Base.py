PLUGINS = [
    "alpha",
    "beta",
]


def names():
    return list(PLUGINS)
