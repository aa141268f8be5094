def installed_version(package_name):
    import importlib.metadata

    try:
        return importlib.metadata.version(package_name)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(f"{package_name!r} is not installed.") from None


def describe(package_name):
    return f"{package_name} {installed_version(package_name)!s}"
