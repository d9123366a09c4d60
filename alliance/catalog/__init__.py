"""Catalog: a merchant's goods (shipped) and services (redeemed in store), and their audit."""
