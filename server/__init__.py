"""The Tornado server: application wiring, the base handler, the command line."""
