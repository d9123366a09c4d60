"""Payments as the domain sees them: provider errors, channel lookup, and the durable,
exactly-once hand-off of verified provider notifications to the domain's handlers."""
