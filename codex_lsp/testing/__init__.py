"""Test and demo support that ships with the package: the fake Responses server and peer lookup."""
