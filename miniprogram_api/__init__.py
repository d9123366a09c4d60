"""The mini-program's API (/api/v1): consumers and merchant staff."""
