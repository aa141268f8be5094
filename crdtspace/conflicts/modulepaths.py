"""Where an import's module may be in the repository: repo-relative paths, by language.

The conflict layer follows imports to the files that define what they bring in; these are the
paths worth looking at, most likely first.
"""

from __future__ import annotations

import posixpath


def module_candidates(language: str, importer: str, module: str) -> tuple[str, ...]:
    """Repo-relative paths an import's module may be, most likely first.

    A path ending in "/" is a directory (Go packages, Java `a.b.*`). Java paths are suffixes:
    match them against the end of a repository path. Modules outside the repository (the
    standard library, packages) give whatever paths they would have; most will not exist.
    """
    finder = _CANDIDATES.get(language)
    if finder is None:
        return ()
    seen: dict[str, None] = {}
    for path in finder(importer, module):
        normal = posixpath.normpath(path) + ("/" if path.endswith("/") else "")
        if not normal.startswith("../") and normal not in ("..", "."):
            seen.setdefault(normal.removeprefix("./"), None)
    return tuple(seen)


def _python_candidates(importer: str, module: str) -> list[str]:
    dots = len(module) - len(module.lstrip("."))
    rest = module[dots:].replace(".", "/")
    if dots:
        base = posixpath.dirname(importer)
        for _ in range(dots - 1):
            base = posixpath.dirname(base)
        target = posixpath.join(base, rest) if rest else base
        found = [f"{target}.py", f"{target}/__init__.py"] if rest else []
        return [*found, f"{target}/__init__.py" if not rest else f"{target}/__init__.pyi"]
    roots = ["", "src/", posixpath.dirname(importer) + "/" if posixpath.dirname(importer) else ""]
    return [p for r in roots for p in (f"{r}{rest}.py", f"{r}{rest}/__init__.py", f"{r}{rest}.pyi")]


_JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".d.ts")


def _js_candidates(importer: str, module: str) -> list[str]:
    if not module.startswith("."):
        return []
    target = posixpath.join(posixpath.dirname(importer), module)
    stem, ext = posixpath.splitext(target)
    found = [target] if ext in _JS_EXTENSIONS else []
    if ext in (".js", ".jsx", ".mjs", ".cjs"):  # TypeScript imports its own files as .js
        found += [stem + e for e in _JS_EXTENSIONS]
    found += [target + e for e in _JS_EXTENSIONS]
    found += [f"{target}/index{e}" for e in _JS_EXTENSIONS]
    return found


def _rust_candidates(importer: str, module: str) -> list[str]:
    parts = [p for p in module.split("::") if p]
    if not parts:
        return []
    importer_dir = posixpath.dirname(importer)
    stem = posixpath.splitext(posixpath.basename(importer))[0]
    if parts[0] == "crate":
        marker = importer.rfind("src/")
        base, parts = (importer[: marker + 4] if marker >= 0 else ""), parts[1:]
    elif parts[0] in ("self", "super"):
        own = importer_dir if stem in ("mod", "lib", "main") else posixpath.join(importer_dir, stem)
        base = own + "/"
        while parts and parts[0] in ("self", "super"):
            if parts.pop(0) == "super":
                base = posixpath.dirname(base.rstrip("/")) + "/"
    else:
        return []
    if not parts:
        return [f"{base}lib.rs", f"{base}main.rs", f"{base}mod.rs"]
    path = base + "/".join(parts)
    parent = posixpath.dirname(path)
    found = [f"{path}.rs", f"{path}/mod.rs"]
    if len(parts) > 1:
        found += [f"{parent}.rs", f"{parent}/mod.rs"]
    else:
        found += [f"{base}lib.rs", f"{base}main.rs", f"{base}mod.rs"]
    return found


def _go_candidates(importer: str, module: str) -> list[str]:
    parts = [p for p in module.split("/") if p]
    return ["/".join(parts[i:]) + "/" for i in range(len(parts))]


def _java_candidates(importer: str, module: str) -> list[str]:
    parts = module.split(".")
    if parts and parts[-1] == "*":
        return ["/".join(parts[:-1]) + "/"]
    return ["/".join(parts) + ".java"]


_CANDIDATES = {
    "python": _python_candidates,
    "javascript": _js_candidates,
    "typescript": _js_candidates,
    "tsx": _js_candidates,
    "rust": _rust_candidates,
    "go": _go_candidates,
    "java": _java_candidates,
}
