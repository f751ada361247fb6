"""A mailbox on the real Dovecot test server mirrored in the database, as a sync
would leave it, for tests of actions written back to IMAP."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from mailservice.accounts.secrets import encrypt_secret
from mailservice.db.session import session_factory
from mailservice.store.raw import RawStore
from mailservice.users.service import add_user
from tests.servers.dovecot import DovecotServer, MailUser
from tests.web.builders import MailBuilder
from tests.web.conftest import PASSWORD

FOLDERS = {"inbox": "INBOX", "archive": "Archive", "trash": "Trash", "sent": "Sent"}


@dataclass
class ImapMailbox:
    """The server, its user, and ids of what is mirrored in the database."""

    server: DovecotServer
    user: MailUser
    ids: dict[str, int]

    def uids(self, folder: str) -> list[int]:
        """UIDs in a folder on the server now."""
        with self.server.client(self.user) as client:
            client.select_folder(folder)
            return sorted(client.search(["ALL"]))

    def subjects(self, folder: str) -> list[str]:
        """Subjects of the messages in a server folder."""
        with self.server.client(self.user) as client:
            client.select_folder(folder)
            fetched = client.fetch(client.search(["ALL"]), ["ENVELOPE"])
            return sorted(d[b"ENVELOPE"].subject.decode() for d in fetched.values())

    def flags(self, folder: str, uid: int) -> set[str]:
        """A message's flags on the server."""
        with self.server.client(self.user) as client:
            client.select_folder(folder)
            return {f.decode() for f in client.get_flags([uid])[uid]}


@contextmanager
def imap_mailbox(settings, server: DovecotServer) -> Iterator[ImapMailbox]:
    """A new Dovecot user with two messages in INBOX, mirrored in the database."""
    user = server.add_user()
    session = session_factory(settings.effective_database_url)()
    build = MailBuilder(session, settings)
    account = build.account("sales")
    account.imap_port, account.username = server.port, user.name
    account.secret_encrypted = encrypt_secret(settings, user.password)
    first = build.message("sales/inbox", build.thread("Faktura 1/11"))
    second = build.message("sales/inbox", build.thread("Reklamacja 7"))
    _mirror(server, user, build, settings, [first, second])
    add_user(session, "admin@firma.test", PASSWORD, role="admin")
    session.commit()
    ids = {
        "first": first.id,
        "second": second.id,
        "first_thread": first.thread_id,
        "second_thread": second.thread_id,
        "first_location": first.locations[0].id,
        "second_location": second.locations[0].id,
        "inbox": build.folders["sales/inbox"].id,
        "archive": build.folders["sales/archive"].id,
        "trash": build.folders["sales/trash"].id,
    }
    session.close()
    yield ImapMailbox(server, user, ids)


def _mirror(server, user, build, settings, messages) -> None:
    store = RawStore(settings.effective_raw_store_dir, fsync=False)
    with server.client(user) as client:
        for name in FOLDERS.values():
            if not client.folder_exists(name):
                client.create_folder(name)
        for role, name in FOLDERS.items():
            build.folders[f"sales/{role}"].uidvalidity = client.select_folder(name)[
                b"UIDVALIDITY"
            ]
    for message in messages:
        uid = server.append(user, "INBOX", store.read(message.raw_sha256))
        location = message.locations[0]
        location.uid, location.uidvalidity = (
            uid,
            build.folders["sales/inbox"].uidvalidity,
        )
    build.session.flush()
