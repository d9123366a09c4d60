"""Accounts: users and their identities, tokens, roles and permissions."""
