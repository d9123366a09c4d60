"""Merchant pushes: messages a merchant sends to a segment of its own members."""
