"""The alliance's domain: models and services. Imports no web framework or provider SDK."""
