"""Conversation threads: which messages answer which, across folders and accounts."""
