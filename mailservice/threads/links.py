"""Which stored messages a batch is connected to by Message-ID or by Thread-Index.

Each finder returns pairs (batch message id, other message id); the other message
may be in the batch too. Both directions are searched, so that the order in which
messages arrive does not matter (RFC 5322 3.6.4):

- up: a batch message's In-Reply-To/References (MessageReference rows) name the
  Message-ID of a stored message, its parent or an older ancestor;
- down: a stored message references the Message-ID of a batch message, i.e. a
  reply that was synced before its parent.

A Message-ID held by two different messages (a broken mailer, or the same mail
stored twice under different identities) connects every reply that names it to
both. Loops (A references B, B references A) and self-references are harmless:
threads are connected components, not trees.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from mailservice.messages.models import Message, MessageReference
from mailservice.threads.batch import ThreadedMessage, in_chunks, one_of
from mailservice.threads.thread_index import (
    ROOT_KEY_LENGTH,
    thread_index_key,
    thread_index_root,
)

Pair = tuple[int, int]


def reference_links(session: Session, batch: dict[int, ThreadedMessage]) -> set[Pair]:
    """Pairs joined because one message references the other's Message-ID."""
    return _parents(session, batch) | _children(session, batch)


def thread_index_links(
    session: Session, batch: dict[int, ThreadedMessage]
) -> set[Pair]:
    """Pairs whose Thread-Index headers share the 22-byte conversation header."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for message in batch.values():
        key = thread_index_key(message.thread_index)
        if key is not None:
            by_key[key].append(message.id)

    pairs: set[Pair] = set()
    # Literal numbers, not bound parameters: the expression must read exactly as
    # the index ix_messages_thread_index_root does for the planner to use it.
    prefix = func.substr(
        Message.thread_index, literal_column("1"), literal_column(str(ROOT_KEY_LENGTH))
    )
    for chunk in in_chunks(by_key):
        rows = session.execute(
            select(Message.id, Message.thread_index).where(
                one_of(session, prefix, chunk)
            )
        )
        for other_id, other_index in rows:
            root = thread_index_root(other_index)
            for batch_id in by_key.get(thread_index_key(other_index) or "", ()):
                mine = thread_index_root(batch[batch_id].thread_index)
                if other_id != batch_id and root == mine:
                    pairs.add((batch_id, other_id))
    return pairs


def _parents(session: Session, batch: dict[int, ThreadedMessage]) -> set[Pair]:
    references: dict[str, list[int]] = defaultdict(list)
    for chunk in in_chunks(batch):
        rows = session.execute(
            select(MessageReference.message_id, MessageReference.referenced_id).where(
                one_of(session, MessageReference.message_id, chunk)
            )
        )
        for message_id, referenced_id in rows:
            references[referenced_id].append(message_id)

    pairs: set[Pair] = set()
    for chunk in in_chunks(references):
        rows = session.execute(
            select(Message.id, Message.message_id_header).where(
                one_of(session, Message.message_id_header, chunk)
            )
        )
        for parent_id, header in rows:
            pairs.update((child, parent_id) for child in references[header])
    return {pair for pair in pairs if pair[0] != pair[1]}


def _children(session: Session, batch: dict[int, ThreadedMessage]) -> set[Pair]:
    by_header: dict[str, list[int]] = defaultdict(list)
    for message in batch.values():
        if message.message_id_header:
            by_header[message.message_id_header].append(message.id)

    pairs: set[Pair] = set()
    for chunk in in_chunks(by_header):
        rows = session.execute(
            select(MessageReference.message_id, MessageReference.referenced_id).where(
                one_of(session, MessageReference.referenced_id, chunk)
            )
        )
        for child_id, header in rows:
            pairs.update((parent, child_id) for parent in by_header[header])
    return {pair for pair in pairs if pair[0] != pair[1]}
