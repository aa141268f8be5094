def load_settings(path):
    with open(path) as handle:
        return parse_settings(handle.read())


def reload(path, cache):
    cache.clear()
    cache.update(load_settings(path))
    return cache
