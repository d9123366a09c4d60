"""Alliance points: an append-only ledger with per-lot expiry and merchant attribution."""
