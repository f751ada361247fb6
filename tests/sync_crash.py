"""Run one account's sync and kill this process with SIGKILL at a chosen point.

`python -m tests.sync_crash ACCOUNT MODE N` with the settings in the environment
(MAILSERVICE_*). MODE says where the process dies, on the Nth occasion:
after-commit (a batch committed), before-commit (a batch's rows written, not
committed), raw-stored (a message stored raw, its batch not yet written).
"""

from __future__ import annotations

import os
import signal
import sys

from mailservice.config import get_settings
from mailservice.store.raw import RawStore
from mailservice.sync import ingest
from mailservice.sync.engine import sync_account


def _die_on_call(count: int, wrapped=None):
    calls = {"n": 0}

    def hook(*args, **kwargs):
        calls["n"] += 1
        result = wrapped(*args, **kwargs) if wrapped else None
        if calls["n"] >= count:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    return hook


def main(account: str, mode: str, count: int) -> None:
    on_batch = None
    if mode == "after-commit":
        on_batch = _die_on_call(count)
    elif mode == "before-commit":
        ingest.thread_messages = _die_on_call(count, ingest.thread_messages)
    elif mode == "raw-stored":
        RawStore.put = _die_on_call(count, RawStore.put)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    sync_account(get_settings(), account, on_batch=on_batch)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
