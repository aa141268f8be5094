"""`crdtspace render`: the workspace's files, as text, to stdout or into a folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

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
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write into --out even when it is not empty or is the repository's working "
            "tree (files there are overwritten).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Print files, or write the whole rendered tree (git-only files included) to --out.

    --out must be a new or empty folder (the working tree itself, or any folder holding
    files, is refused without --force: rendering there overwrites uncommitted work)."""
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
        target = Path(absolute(ctx, str(out_dir)))
        _check_target(target, workspace.root, force=force)
        selected = (
            [workspace.resolve(absolute(ctx, p))[0] for p in paths] if paths else workspace.paths()
        )
        written = 0
        with progress_bar("rendering", enabled=not as_json) as update:
            for index, path in enumerate(selected):
                _write_file(
                    target,
                    path,
                    workspace.render(path).encode("utf-8"),
                    workspace.document.mode(path),
                )
                written += 1
                update(index + 1, len(selected))
        copied = 0
        if not paths:
            from crdtspace.git import gitio

            repo = gitio.open_repo(context(ctx).repo)
            for item in workspace.git_only():
                info = workspace.document.gitonly[item.path]
                if info["mode"] == "160000":
                    continue  # a submodule: nothing to write
                data = gitio.blob_text(repo, str(info["blob"]))
                _write_file(target, item.path, data, str(info["mode"]))
                copied += 1
    if as_json:
        print_json({"out": str(target), "files": written, "git_only_copied": copied})
        return
    out.print(f"Wrote {written} files and copied {copied} git-only files into {target}.")


def _check_target(target: Path, root: Path | None, *, force: bool) -> None:
    """Refuse an --out that rendering would damage: the .git folder always; without --force,
    the working tree and any folder that is not empty (nothing is written on refusal)."""
    real = Path(os.path.realpath(target))
    work_tree = Path(os.path.realpath(root)) if root is not None else None
    if work_tree is not None and (work_tree / ".git") in (real, *real.parents):
        raise PathError(f"Refusing to write into the repository's .git folder ({target}).")
    if real.exists() and not real.is_dir():
        raise DocumentError(f"Refusing to render into {target}: it is not a folder.")
    if force:
        return
    if work_tree is not None and real == work_tree:
        raise DocumentError(
            f"Refusing to render into {target}: it is the repository's working tree, where "
            "rendering would overwrite uncommitted work.",
            hint="render into a new or empty folder, or give --force",
        )
    if real.is_dir() and any(real.iterdir()):
        raise DocumentError(
            f"Refusing to render into {target}: the folder is not empty.",
            hint="render into a new or empty folder, or give --force",
        )


def _write_file(out: Path, relative: str, data: bytes, mode: str) -> None:
    """One file of the tree under `out`: never through a link there, nor into `.git` (a link
    itself is replaced, never followed)."""
    from crdtspace.git import gitio

    folder, _, name = relative.rpartition("/")
    path = (gitio.safe_target(out, folder) if folder else out) / name
    if mode != "120000":
        path = gitio.safe_target(out, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "120000" and path.is_dir() and not path.is_symlink():
        raise PathError(
            f"{relative!r} is a link in git, but the workspace has files below it: "
            "such a tree is refused (the commit gate refuses it too)."
        )
    if mode == "120000":
        if path.is_symlink() or path.exists():
            path.unlink()
        os.symlink(data.decode("utf-8", "surrogateescape"), path)
        return
    path.write_bytes(data)
    if mode == "100755":
        path.chmod(0o755)
