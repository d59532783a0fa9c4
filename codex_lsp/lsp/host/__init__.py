"""The agent's host interfaces on LSP (loaded on first use: it brings the agent, model and patch layers)."""
