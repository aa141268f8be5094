"""`crdtspace render`: the workspace's files, as text, to stdout or into a folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from crdtspace import gitio
from crdtspace.cli.common import (
    JsonOption,
    absolute,
    app,
    context,
    handled,
    open_workspace,
    out,
    print_json,
)
from crdtspace.cli.common import progress as progress_bar
from crdtspace.errors import DocumentError, PathError


@app.command()
def render(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None, typer.Argument(help="Files to print (default with --out: all).")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the rendered tree into this folder."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print files, or write the whole rendered tree (git-only files included) to --out."""
    with handled(), open_workspace(ctx) as workspace:
        if out_dir is None:
            if not paths:
                raise DocumentError(
                    "Name the files to print, or give --out DIR to write them all.",
                )
            texts = {p: workspace.render(absolute(ctx, p)) for p in paths}
            if as_json:
                print_json(texts)
                return
            for text in texts.values():
                sys.stdout.write(text)
            sys.stdout.flush()
            return
        target = out_dir.absolute()
        root = workspace.root
        if root is not None and (root / ".git") in (target, *target.parents):
            raise PathError(f"Refusing to write into the repository's .git folder ({target}).")
        selected = (
            [workspace.resolve(absolute(ctx, p))[0] for p in paths] if paths else workspace.paths()
        )
        written = 0
        with progress_bar("rendering", enabled=not as_json) as update:
            for index, path in enumerate(selected):
                _write_file(
                    target / path,
                    workspace.render(path).encode("utf-8"),
                    workspace.document.mode(path),
                )
                written += 1
                update(index + 1, len(selected))
        copied = 0
        if not paths:
            repo = gitio.open_repo(context(ctx).repo)
            for item in workspace.git_only():
                info = workspace.document.gitonly[item.path]
                if info["mode"] == "160000":
                    continue  # a submodule: nothing to write
                data = gitio.blob_text(repo, str(info["blob"]))
                _write_file(target / item.path, data, str(info["mode"]))
                copied += 1
    if as_json:
        print_json({"out": str(target), "files": written, "git_only_copied": copied})
        return
    out.print(f"Wrote {written} files and copied {copied} git-only files into {target}.")


def _write_file(path: Path, data: bytes, mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "120000":
        if path.is_symlink() or path.exists():
            path.unlink()
        os.symlink(data.decode("utf-8", "surrogateescape"), path)
        return
    path.write_bytes(data)
    if mode == "100755":
        path.chmod(0o755)
