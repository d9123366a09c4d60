"""The operators' console API (/api/admin/v1)."""
