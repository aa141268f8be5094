"""Administrative actions."""


def stats(stores):
    return {name: len(store.entries) for name, store in stores.items()}
