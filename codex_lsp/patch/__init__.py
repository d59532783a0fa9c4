"""Patches from model text to file changes: parse, match, apply atomically. No LSP, no direct I/O."""
