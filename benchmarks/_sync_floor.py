"""The raw floor of the sync benchmark: every message fetched and thrown away.

`python -m benchmarks._sync_floor PORT USER` (password in $BENCH_IMAP_PASSWORD)
logs in with plain imaplib over one connection, examines each folder, and runs
UID FETCH BODY.PEEK[] in batches of 200, keeping nothing. No client does less
to read a mailbox, so no sync can be faster. Prints one JSON line: messages and
bytes read.
"""

from __future__ import annotations

import imaplib
import json
import os
import re
import sys

HOST = "127.0.0.1"
BATCH = 200
# RFC 3501 7.2.2: * LIST (flags) "delimiter" name
_LIST = re.compile(rb'\((?P<flags>[^)]*)\) (?:NIL|"[^"]*") (?P<name>.+)$')


def fetch_everything(port: int, user: str, password: str) -> tuple[int, int]:
    """Read every message of every folder once; how many, and their bytes."""
    imap = imaplib.IMAP4(HOST, port)
    imap.login(user, password)
    messages = size = 0
    for folder in _folders(imap):
        imap.select(folder, readonly=True)
        _typ, data = imap.uid("SEARCH", "ALL")
        uids = data[0].split()
        for start in range(0, len(uids), BATCH):
            batch = b",".join(uids[start:start + BATCH]).decode()
            _typ, data = imap.uid("FETCH", batch, "(BODY.PEEK[])")
            for item in data:
                if isinstance(item, tuple):
                    messages += 1
                    size += len(item[1])
    imap.logout()
    return messages, size


def _folders(imap: imaplib.IMAP4) -> list[str]:
    _typ, lines = imap.list()
    names = []
    for line in lines:
        match = _LIST.match(line)
        if match and b"\\noselect" not in match["flags"].lower():
            names.append(match["name"].decode("ascii"))
    return names


if __name__ == "__main__":
    count, total = fetch_everything(
        int(sys.argv[1]), sys.argv[2], os.environ["BENCH_IMAP_PASSWORD"]
    )
    print(json.dumps({"messages": count, "bytes": total}))
