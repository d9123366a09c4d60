"""Shared machinery of the domain: idempotency records, counters, a key-value store."""
