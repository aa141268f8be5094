def installed_version(package_name):
    try:
        from importlib import metadata  # type: ignore
    except ImportError:
        # Python < 3.8
        import importlib_metadata as metadata  # type: ignore

    try:
        return metadata.version(package_name)  # type: ignore
    except metadata.PackageNotFoundError:  # type: ignore
        raise RuntimeError(f"{package_name!r} is not installed.") from None


def describe(package_name):
    return f"{package_name} {installed_version(package_name)}"
