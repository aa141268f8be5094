"""Administrative actions."""


def stats(stores):
    return {name: len(store.entries) for name, store in stores.items()}


def reset_all(stores):
    for store in stores.values():
        store.purge()
