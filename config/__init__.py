"""Configuration: one frozen Settings object built from the environment."""
