"""Parsing raw messages: headers for listing, bodies and attachments behind it."""
