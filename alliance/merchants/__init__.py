"""Merchants: applications and their audit, shops, staff and their roles, consumer browsing."""
