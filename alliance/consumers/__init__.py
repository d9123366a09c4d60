"""Consumers as operators see them: the list, one consumer's profile, behaviour analysis.

Reads only; personal data leaves this package masked (phone 138****8000, email a***@x).
"""
