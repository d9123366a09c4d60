"""The platform's own settings (name, logo, contact, policies) and its health for operators."""
