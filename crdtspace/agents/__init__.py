"""The agent layer: the doors agents come in by.

The agent tools, one definition for the MCP server and the runner (`tools`); the MCP server,
over stdio for Claude Code, Codex and Cursor and over HTTP on the workspace service (`mcp`);
joining the service under a name of one's own, the clients' config and the guide for
`AGENTS.md` (`setup`); a plan of several agents run at once to one gate commit (`plan`,
`runner`).

May import: any layer below (model, conflicts, git, live) and the `Workspace` façade.
"""
