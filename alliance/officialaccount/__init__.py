"""The official account: followers, inbound messages and events, operators' auto-replies."""
