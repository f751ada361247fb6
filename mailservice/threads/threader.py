"""Putting messages into threads, independent of the order they arrive in.

A thread is a connected component of messages. Links, strongest first:
1. Message-ID: a message's In-Reply-To/References name another's Message-ID, in
   either direction, so a reply synced before its parent finds it later
   (links.py, RFC 5322 3.6.4);
2. Thread-Index: Outlook's conversation header block is the same (thread_index.py);
3. subject: the same normalised subject within the window, the later message a
   reply, and a party or contact in common (subject_links.py).

Each link depends only on the two messages, and every link of a new message to
a stored one is found when the new one arrives; unions never split. So any
arrival order ends in the same threads. A message whose parent is not synced yet
gets a thread of its own and merges when the parent comes (placement.py keeps
the lowest thread id).

The sync calls `thread_messages` in its ingest transaction, after inserting the
Message, MessageReference, MessageAddress and MessageContact rows of a batch.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.threads.batch import in_chunks, load_messages
from mailservice.threads.components import group_messages
from mailservice.threads.links import reference_links, thread_index_links
from mailservice.threads.placement import place_groups
from mailservice.threads.subject_links import subject_links

log = logging.getLogger(__name__)

# Larger calls are threaded in slices of this many messages; the result is the
# same, as it does not depend on order, and every IN list stays short.
SLICE = 500


def thread_messages(
    session: Session, settings: Settings, message_ids: list[int]
) -> None:
    """Place each message into a thread, merging threads it connects."""
    # The caller's inserts must be visible to the queries below.
    session.flush()
    for chunk in in_chunks(sorted(set(message_ids)), SLICE):
        _thread_slice(session, settings, chunk)


def _thread_slice(session: Session, settings: Settings, ids: list[int]) -> None:
    batch = load_messages(session, ids)
    if not batch:
        return

    pairs = (
        reference_links(session, batch)
        | thread_index_links(session, batch)
        | subject_links(session, settings, batch)
    )
    neighbours = {i for pair in pairs for i in pair} - batch.keys()
    messages = batch | load_messages(session, neighbours)

    groups = [g for g in group_messages(messages, pairs) if not g.is_settled]
    plans = place_groups(session, groups) if groups else []

    created = sum(plan.created for plan in plans)
    merged = sum(len(plan.absorbed) for plan in plans)
    log.debug(
        "threaded %d messages (%d links): %d new threads, %d threads merged",
        len(batch), len(pairs), created, merged,
    )
    for plan in plans:
        if plan.absorbed:
            log.debug("threads %s merged into thread %d", plan.absorbed, plan.target)
