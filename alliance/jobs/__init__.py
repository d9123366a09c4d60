"""Scheduled jobs: the lease that makes each slot run once, and the record of every run."""
