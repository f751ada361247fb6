"""Outbound mail: drafts, building MIME, the outbox spool, delivery and what comes back."""
