"""Cooperation between merchants: proposals, negotiated terms, and what a partnership brought."""
