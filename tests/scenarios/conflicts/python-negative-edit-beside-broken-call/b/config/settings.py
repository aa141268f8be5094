def load_settings(path):
    with open(path, encoding="utf-8") as handle:
        return parse_settings(handle.read())


def parse_settings(text):
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def reload(path, cache):
    cache.clear()
    cache.update(load_settings(path))
    return cache
