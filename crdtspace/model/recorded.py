"""Edits that record what happened elsewhere: commits from git, resolutions, raw Yjs edits."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from pycrdt import Array, Map

from crdtspace.errors import DocumentError
from crdtspace.model.logentry import TextEdit
from crdtspace.model.nodeedits import NodeEdits
from crdtspace.model.textedit import diff, set_text

if TYPE_CHECKING:
    pass


class Recorded(NodeEdits):
    """Part of `Replica` (see `ReplicaCore`)."""

    def forget_path(self, path: str) -> None:
        """A file deleted in git: removed from the workspace, text or git-only."""
        if path in self.document.files:
            self.remove(path, description="deleted in git")
        elif path in self.document.gitonly:
            with self.transaction("deleted in git"):
                del self.document.gitonly[path]

    def keep_in_git(self, path: str, blob: str, mode: str, reason: str) -> None:
        """A file git holds that the workspace does not edit (binary, huge, a link, ...)."""
        with self.transaction("kept in git"):
            if path in self.document.files:
                self.remove(path, description="became git-only")
            self.document.gitonly[path] = Map({"reason": reason, "blob": blob, "mode": mode})

    def set_mode(self, path: str, mode: str) -> None:
        """A file's git mode (100644, 100755)."""
        roots = self.document.roots(self._path(path))
        if roots and self.document.mode(path) != mode:
            with self.transaction("mode"):
                self.document.node(roots[0])["mode"] = mode

    def new_entry_id(self) -> str:
        return self._new_id()

    def set_node_texts(self, nid: str, texts: dict[str, str]) -> None:
        """Give a node these texts (and name), as one edit that has seen all its heads."""
        path = self.document.path_of(nid)
        with self.transaction("resolve"):
            node = self.document.node(nid)
            parts = ("text",) if "text" in node else ("head", "tail")
            for part in parts:
                log = functools.partial(self._record, nid, part)
                set_text(node[part], str(node[part]), texts.get(part, ""), log)
            name = texts.get("name")
            if name is not None and name != str(node["name"]):
                self._record(nid, "name", 0, str(node["name"]), name)
                node["name"] = name
            self._touch(nid, "edit")
            if path is not None:
                self._typing.structure_changed(path)

    def record_raw_edit(self, nid: str, before: dict[str, str], *, agent: str) -> bool:
        """Log, as `agent`'s, a change made to a node's texts with no log entry (a Yjs client
        typing into it straight): its texts went from `before` to what they are now. The entry
        has seen the node's current heads and carries `before` as its base, so the history and
        the conflict layer see the change like any other edit. Returns whether there was one."""
        if not self.document.has_node(nid):
            return False
        after = self.document.texts(nid)
        changes: list[TextEdit] = []
        for part in sorted(set(before) | set(after)):
            if part == "name":
                continue
            # descending positions: each edit is then against the text the previous one left
            for edit in reversed(diff(before.get(part, ""), after.get(part, ""))):
                old = before.get(part, "")[edit.pos : edit.pos + edit.delete]
                changes.append((part, edit.pos, old, edit.insert))
        if not changes:
            return False
        self._raw_edit = True
        try:
            with self.acting_as(agent), self.transaction("edited its text directly"):
                for part, pos, old, new in changes:
                    self._record(nid, part, pos, old, new)
                self._touch(nid, "edit")
        finally:
            self._raw_edit = False
        return True

    def confirm_delete(self, nid: str) -> None:
        """Record that a deleted node stays deleted, as an entry that has seen all its heads."""
        with self.transaction("resolve: delete"):
            self._touch(nid, "delete")

    def restore(self, nid: str, texts: dict[str, str]) -> None:
        """Put a deleted node back where it was (after its old previous sibling), with texts."""
        document = self.document
        node = document.node(nid)
        parent = document.parent(nid)
        with self.transaction("resolve: restore"):
            if not parent:
                path = str(node.get("path", ""))
                if path in document.files:
                    raise DocumentError(f"{path!r} exists again; edit it instead.")
                document.files[path] = Array([nid])
            else:
                if document.path_of(parent) is None:
                    raise DocumentError(
                        f"The container of node {nid!r} is gone too; restore it first."
                    )
                deletes = [e for e in document.log(nid) if e.op == "delete"]
                after = deletes[-1].to if deletes else ""
                siblings = document.children(parent)
                body = document.node(parent)["body"]
                items = list(body)
                position = items.index(after) + 1 if after in siblings else len(items)
                body.insert(position, nid)
                document.set_parent(nid, parent)
            self.set_node_texts(nid, texts)
            self._touch(nid, "move")
            path_now = document.path_of(nid)
            if path_now is not None:
                self._typing.structure_changed(path_now)

    def place(self, nid: str, container: str) -> None:
        """Put a node in `container` only (after a move + move it sits in two bodies)."""
        document = self.document
        if not document.is_container(container):
            raise DocumentError(f"The node {container!r} is not a container.")
        with self.transaction("resolve: place"):
            for holder in {document.parent(nid), container}:
                if holder and document.has_node(holder):
                    document.take_out(holder, nid)
            document.node(container)["body"].append(nid)
            document.set_parent(nid, container)
            self._touch(nid, "move")
            path = document.path_of(nid)
            if path is not None:
                self._typing.structure_changed(path)
