"""Editing a replica: node edits (replace, insert, delete, move), whole-file writes, splices."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from pycrdt import Array

from crdtspace.errors import DocumentError, NodeNotFound
from crdtspace.model.bases import Bases
from crdtspace.model.languages import profile_for
from crdtspace.model.paths import DEFAULT_SIZE_LIMIT
from crdtspace.model.rekey import Result
from crdtspace.model.rekeyfile import create_file, rekey_file
from crdtspace.model.textedit import set_text
from crdtspace.model.unitfit import fit_unit

if TYPE_CHECKING:
    pass


class NodeEdits(Bases):
    """Part of `Replica` (see `ReplicaCore`)."""

    _text_kept: tuple[str, int, str] = ("", -1, "")
    """The text `replace` last gave a node of a plain-text file (a code file's is re-keyed),
    and the count of changes (`_changes`) right after:
    while no change came since, the node's text is that (reading it back from yrs costs what
    its blocks number, one per edit and more: 13 us in a loop after 300 edits, 50 us on a
    machine that slept between them)."""

    def replace(
        self,
        ref: str,
        text: str,
        *,
        description: str = "replace",
        base: str | None = None,
        agent: str | None = None,
    ) -> str:
        """Give a node new text; its key stays. Returns the key. Made from `base` (a version;
        by default the agent's last read, see `base_of`): only the change from the node's text
        there is applied, concurrent with whatever happened since. A unit of a code file keeps
        its place's blank lines before it, indentation and end (`unitfit.fit_unit`)."""
        return self._from_base(
            self._path_of_ref(ref),
            base,
            agent,
            lambda ws: ws._replace(ref, text, description),
        )

    def _replace(self, ref: str, text: str, description: str) -> str:
        path, nid = self.resolve(ref)
        text = self._unmaterialized(path, text)
        if nid is None:
            self._write_whole(path, text, description)
            return self.document.roots(path)[0]
        fitted = profile_for(path) is not None  # (a plain-text file's node: the text as given)
        written: str | None = None
        with self.transaction(description):
            node = self.document.node(nid)
            if "text" in node:
                old = self._text_now(nid, node)
                written = fit_unit(old, text) if fitted else text
                log = functools.partial(self._record, nid, "text")
                if set_text(node["text"], old, written, log):
                    self._touch(nid, "edit")
                self._typing.retyped(path, nid)
            else:
                start, end = self._span(path, nid)
                whole = self.document.render(path)
                if fitted:
                    text = fit_unit(whole[start:end], text)
                self._write(path, whole[:start] + text + whole[end:])
        if written is not None and not fitted and not self._depth and self._merging is None:
            # (a plain-text file's node: nothing re-keys it, its text is what was written)
            self._text_kept = (nid, self._changes, written)
        return nid

    def _text_now(self, nid: str, node: Any) -> str:
        kept_nid, changes, kept = self._text_kept
        if kept_nid == nid and changes == self._changes and self._merging is None:
            return kept
        return str(node["text"])

    def insert(
        self,
        parent: str,
        after: str | None,
        text: str,
        *,
        description: str = "insert",
        base: str | None = None,
        agent: str | None = None,
    ) -> list[str]:
        """Insert new units (as source text) into a container, after a child or first.
        Returns the keys of the units created. (`base`, `agent`: as for `replace`.) In a code
        file, the text takes its siblings' layout (`_sibling_layout`, `unitfit.fit_unit`)."""
        return self._from_base(
            self._path_of_ref(parent),
            base,
            agent,
            lambda ws: ws._insert(parent, after, text, description),
        )

    def _insert(self, parent: str, after: str | None, text: str, description: str) -> list[str]:
        path, container = self.resolve(parent)
        if container is None:
            container = self.document.roots(path)[0]
        if not self.document.is_container(container):
            raise DocumentError(
                f"The node {container!r} is not a container; insert into its parent."
            )
        whole = self.document.render(path)
        after_id: str | None = None
        if after is None:
            start, _ = self._span(path, container)
            pos = start + len(str(self.document.node(container)["head"]))
        else:
            _, after_id = self.resolve(after if "::" in after else f"{path}::{after}")
            if after_id is None or after_id not in self.document.children(container):
                raise DocumentError(f"{after!r} is not a child of {parent!r}.")
            _, pos = self._span(path, after_id)
        model = self._sibling_layout(container, after_id) if profile_for(path) else None
        if model is not None:
            text = fit_unit(model, text)
        with self.transaction(description):
            result = self._write(path, whole[:pos] + text + whole[pos:])
        created = set(result.created)
        return [n for n in result.created if self.document.parent(n) not in created]

    def _sibling_layout(self, container: str, after: str | None) -> str | None:
        """The text of a child of `container` whose layout a unit inserted after `after` (or
        first) takes (`fit_unit`): `after` when blank lines separate it from the unit before
        it, else the first child that has them, else the first child (its indentation)."""
        children = self.document.children(container)
        if not children:
            return None

        def spaced(child: str) -> bool:  # (its own text or head starts it: no render needed)
            own = self.document.texts(child)
            return own.get("text", own.get("head", "")).startswith("\n")

        if after is None or not spaced(after):
            after = next((c for c in children if spaced(c)), children[0])
        return self.document.render_node(after)

    def delete(
        self,
        ref: str,
        *,
        description: str = "delete",
        base: str | None = None,
        agent: str | None = None,
    ) -> None:
        """Take a node out of its container (its log stays, for conflicts and history).
        (`base`, `agent`: as for `replace`; a node edited since `base` is a delete-edit.)"""
        self._from_base(
            self._path_of_ref(ref), base, agent, lambda ws: ws._delete(ref, description)
        )

    def _delete(self, ref: str, description: str) -> None:
        path, nid = self.resolve(ref)
        if nid is None:
            self.remove(path, description=description)
            return
        with self.transaction(description):
            parent = self.document.parent(nid)
            if not parent:
                self.remove(path, description=description)
                return
            siblings = self.document.children(parent)
            where = siblings.index(nid) if nid in siblings else 0
            self._deleted_after[nid] = siblings[where - 1] if where > 0 else ""
            self.document.take_out(parent, nid)
            self._touch(nid, "delete")
            self._typing.structure_changed(path)

    def move(
        self,
        ref: str,
        parent: str,
        after: str | None = None,
        *,
        description: str = "move",
        base: str | None = None,
        agent: str | None = None,
    ) -> None:
        """Move a node into `parent` (a container), after `after` or first. (`base`, `agent`:
        as for `replace`.)"""
        self._from_base(
            self._path_of_ref(ref),
            base,
            agent,
            lambda ws: ws._move(ref, parent, after, description),
        )

    def _move(self, ref: str, parent: str, after: str | None, description: str) -> None:
        path, nid = self.resolve(ref)
        target_path, target = self.resolve(parent)
        if nid is None:
            raise DocumentError("Whole files cannot be moved; name a node.")
        if target is None:
            target = self.document.roots(target_path)[0]
        if not self.document.is_container(target):
            raise DocumentError(f"The node {parent!r} is not a container.")
        ancestor: str = target
        seen: set[str] = set()
        while ancestor and ancestor not in seen:  # (a peer's cycle of parents ends the walk)
            if ancestor == nid:
                raise DocumentError("A node cannot be moved into itself.")
            seen.add(ancestor)
            ancestor = self.document.parent(ancestor) if self.document.has_node(ancestor) else ""
        with self.transaction(description):
            old_parent = self.document.parent(nid)
            if old_parent:
                self.document.take_out(old_parent, nid)
            body = self.document.node(target)["body"]
            position = 0
            if after is not None:
                _, after_id = self.resolve(after if "::" in after else f"{target_path}::{after}")
                items = list(body)
                if after_id not in items:
                    raise DocumentError(f"{after!r} is not a child of {parent!r}.")
                position = items.index(after_id) + 1
            body.insert(position, nid)
            self.document.set_parent(nid, target)
            self._touch(nid, "move")
            self._typing.structure_changed(path)
            self._typing.structure_changed(target_path)

    def write(
        self,
        path: str,
        text: str,
        *,
        description: str = "write",
        base: str | None = None,
        agent: str | None = None,
    ) -> Result:
        """A whole-file edit (an agent or editor saving): re-keyed into per-node edits.

        Made from `base` (a version; by default the agent's last read of the file, see
        `base_of`): only the writer's change from the file as it was there is applied, as an
        edit concurrent with everything since, so nothing the writer had not seen is undone;
        where both changed the same lines, the conflict layer reports an overlap."""
        relative = self._new_path(path)
        size = len(text.encode("utf-8", "surrogateescape"))
        if size > DEFAULT_SIZE_LIMIT:
            raise DocumentError(
                f"{relative!r}: {size:,} bytes is over the workspace's size limit of "
                f"{DEFAULT_SIZE_LIMIT:,} bytes.",
                hint="files that large stay git-only: change it in git",
            )
        if relative in self.document.gitonly:
            reason = self.document.gitonly[relative]["reason"]
            raise DocumentError(
                f"{relative!r} is kept in git only ({reason}); crdtspace does not write it.",
                hint="change it in git and run `crdtspace sync-git`",
            )
        return self._from_base(
            relative, base, agent, lambda ws: ws._write_whole(relative, text, description)
        )

    def _write_whole(self, path: str, text: str, description: str) -> Result:
        if path in self.document.files:
            text = self._unmaterialized(path, text)
        with self.transaction(description):
            return self._write(path, text)

    def _write(self, path: str, text: str) -> Result:
        self._typing.flush_path(path, thorough=True)
        if path not in self.document.files:
            result = create_file(self.document, path, text, self._rekeyer)
        else:
            index = self._typing.index(path)
            result = rekey_file(
                self.document, path, text, self._rekeyer, self._touch, self._record, index
            )
            if index.structured:  # kept exact by rekey_file
                return result
        self._typing.indexes.pop(path, None)
        return result

    def remove(self, path: str, *, description: str = "remove") -> None:
        """Remove a file from the workspace."""
        path = self._path(path)
        with self.transaction(description):
            for root in self.document.roots(path):
                self._touch(root, "delete")
            del self.document.files[path]
            self._typing.structure_changed(path)

    def rename(
        self, path: str, new_path: str, *, description: str = "rename", agent: str | None = None
    ) -> None:
        """Give a file a new path. Its nodes stay, with their keys and history, when both paths
        are of one language; else the text is written anew as the new path's units."""
        old, new = self._path(path), self._new_path(new_path)
        if new in self.document.files or new in self.document.gitonly:
            raise DocumentError(f"{new!r} exists already.", hint="remove it first, or pick another")
        old_profile, new_profile = profile_for(old), profile_for(new)
        same = (old_profile and old_profile.name) == (new_profile and new_profile.name)
        with self.acting_as(agent or self.agent), self.transaction(description):
            if not same:
                self._write(new, self.document.render(old))
                self.remove(old, description=description)
                return
            roots = self.document.roots(old)
            self.document.files[new] = Array(roots)
            del self.document.files[old]
            for root in roots:
                self.document.node(root)["path"] = new
                self._touch(root, "move")
            self._typing.structure_changed(old)
            self._typing.structure_changed(new)

    def splice(self, path: str, offset: int, delete: int = 0, insert: str = "") -> None:
        """An editor's character edit at a character offset of a file.

        The edit lands in the node texts it falls in (found by binary search, no render) and
        marks their top-level units dirty (and which children of them, for a container). The
        dirty units are re-segmented on their own and re-keyed (so units typed into existence
        appear, and units typed across merge) before anything reads structure (outline,
        resolve, sending or receiving updates), when one splice leaves more than
        MAX_DIRTY_SLOTS units dirty, and one at a time, the least recently typed, when typing
        moves on while DIRTY_SLOTS units are dirty; not at every newline, which would re-parse
        a large unit per line typed. Typing inside children of a container (methods
        of a class) re-parses those children in the container's context, not the container.
        A unit that did not parse waits for RETRY_AFTER more splices, or for a structure read,
        before it is parsed again. (The typing state and these constants: `splicing`.)
        """
        if path not in self._typing.indexes:  # (an indexed path is valid: skip the lookups)
            path = self._path(path)
        # The typist's own keystrokes are part of what it has seen: a write it makes next is
        # based on the text it typed into, not on a read from before.
        self._settle_reads()
        self.versions.forget_read(self.agent, path)
        if self._depth:
            self._typing.splice(path, offset, delete, insert, self._txn)
            return
        with self.transaction():
            self._typing.splice(path, offset, delete, insert, self._txn)

    def _span(self, path: str, nid: str) -> tuple[int, int]:
        """The character range a node renders at in its file (a walk without recursion that
        stops at the node; a node reached twice renders once, as in `Document.render`)."""
        document = self.document
        offset = 0
        seen: set[str] = set()
        stack: list[Any] = document.roots(path)  # ids to open, and tails (Texts) to pass
        stack.reverse()
        while stack:
            item = stack.pop()
            if type(item) is not str:
                offset += len(str(item))
                continue
            if item in seen:
                continue
            if item == nid:
                out: list[str] = []
                document.render_into(item, out, seen)
                return offset, offset + sum(map(len, out))
            seen.add(item)
            node = document.node(item)
            if "text" in node:
                offset += len(str(node["text"]))
                continue
            offset += len(str(node["head"]))
            stack.append(node["tail"])
            children = document.children(item)
            children.reverse()
            stack.extend(children)
        raise NodeNotFound(f"The node {nid!r} is not in {path!r}.")
