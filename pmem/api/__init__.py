"""Network faces over the same core as the CLI and the TUI: an OpenAI-compatible HTTP API (``pmem serve``) and an
MCP server (``pmem mcp``). Thin: they parse, check and format; every action is the assistant's."""
