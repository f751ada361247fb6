"""Synced messages, where they live on the servers, their addresses and attachments."""
