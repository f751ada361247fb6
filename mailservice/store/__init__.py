"""The raw message store: every message byte for byte, found by its SHA-256."""
