"""Database plumbing shared by every part: the declarative base, engines, sessions."""
