"""Tests of how the language server is started: stdio, TCP and WebSocket, and who may connect."""
