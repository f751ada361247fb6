"""Outbound mail: drafts, MIME, the outbox spool, delivery, and what comes back."""
