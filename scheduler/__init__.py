"""The scheduler process: recurring work, each slot run once across processes."""
