"""The git layer: where the workspace meets the repository.

A repository's workspaces, made and opened (`workspaces`), reading and writing objects
(`gitio`, its bulk-read git processes in `gitbatch`), the one agreement point that writes
converged, conflict-free states as commits (`gate`; which replicas it waits for in `presence`),
commits from outside applied as edits (`gitsync`), rendered trees on disk (`worktree`),
workspace states in git refs and push/pull (`gitstate`), merging branches and files
(`branchmerge`, `mergedriver`, git's line merge `mergefile`, the line merge that knows
layout-only changes `linemerge`, its merge of one line's two edits by tokens `tokenmerge`, the
file-wide rules a clean merge is finished with `mergetidy` (line endings, the final line break,
blank lines), the order of two sides' additions at one place `mergeorder`, the cheap check
of git's clean merge `mergecheck`; the
driver's merge of one file `mergejob`, run by a long-lived `mergeserver` for the small client
git runs, `mergeclient` through `drivercommand`) and the hooks (`hooks` installs
them, `hookrun` runs them; `summary` is what their shims and `crdtspace status` read without
opening the workspace).

May import: `crdtspace.errors`, the model, the conflict layer, and this layer. Everything here
works on a `crdtspace.model.replica.Replica`, never on the `Workspace` façade.
"""
