"""The agent's tools: one small module each, registered in a :class:`ToolRegistry`."""
