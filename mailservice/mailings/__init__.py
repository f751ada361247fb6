"""Bulk mailings: one composed message, many recipients, each with their own fields
and files, sent through the outbound queue (wysyłka seryjna)."""
