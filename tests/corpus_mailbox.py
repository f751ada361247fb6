"""Load the whole shared corpus into a Dovecot user's folder, as mail arriving there.

Every corpus message (tests/corpus.py, mbox files split into messages) is sent by
IMAP APPEND over one connection; what the server refuses is reported with its
answer, never dropped silently. `python -m tests.corpus_mailbox` starts a test
server, loads the corpus and prints what was appended and what was refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imapclient import IMAPClient

from tests.corpus import corpus_messages
from tests.servers.dovecot import DovecotServer, MailUser


@dataclass
class CorpusLoad:
    """What the server took: labels appended, (label, server's answer) refused."""

    appended: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def load_corpus(
    server: DovecotServer, user: MailUser, folder: str = "INBOX"
) -> CorpusLoad:
    """APPEND every corpus message to `folder` of `user`; what went in and what not."""
    load = CorpusLoad()
    client = server.client(user)
    try:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for label, raw in corpus_messages():
            try:
                client.append(folder, raw)
                load.appended.append(label)
            except IMAPClient.AbortError as exc:
                load.rejected.append((label, f"connection dropped: {exc}"))
                client = server.client(user)
            except IMAPClient.Error as exc:
                load.rejected.append((label, str(exc)))
    finally:
        client.logout()
    return load


def main() -> None:
    """Load the corpus into a fresh server and print the outcome."""
    with DovecotServer() as server:
        load = load_corpus(server, server.add_user())
    print(f"appended {len(load.appended)} messages, rejected {len(load.rejected)}")
    for label, reason in load.rejected:
        print(f"rejected {label}: {reason}")


if __name__ == "__main__":
    main()
