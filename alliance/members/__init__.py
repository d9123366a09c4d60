"""Membership: platform levels, per-shop membership, and the dynamic member code."""
