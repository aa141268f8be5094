"""The agent layer: the doors agents come in by (the workspace service, MCP tools, the runner).

May import: any layer below (model, conflicts, git, sync) and the `Workspace` façade.
"""
