"""Notifications: a durable outbox written with the business change, delivered after commit."""
