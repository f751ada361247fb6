"""The outbox spool: the exact bytes of each queued message, and attachment files.

A message is written before its row says `queued`, atomically (temp file, fsync,
rename), so a worker on any machine that sees the row finds the file. The root
(`Settings.outbox_dir`) must be shared storage when workers run on several hosts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


class Spool:
    """Files under the outbox root: messages/<n>/<id>.eml and files/<sha256>."""

    def __init__(self, root: Path, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync

    def message_name(self, outgoing_id: int) -> str:
        """The spool name (relative path) of an outgoing message."""
        return f"messages/{outgoing_id // 1000:06d}/{outgoing_id}.eml"

    def write_message(self, outgoing_id: int, raw: bytes) -> str:
        """Store the rendered message; its spool name."""
        name = self.message_name(outgoing_id)
        self._write(self.root / name, raw)
        log.debug("spooled outgoing=%s bytes=%d", outgoing_id, len(raw))
        return name

    def read_message(self, name: str) -> bytes:
        """The bytes of a spooled message."""
        return (self.root / name).read_bytes()

    def put_file(self, data: bytes) -> str:
        """Store an attachment's bytes under their hash; the hash."""
        sha256 = hashlib.sha256(data).hexdigest()
        path = self._file_path(sha256)
        if not path.exists():
            self._write(path, data)
        return sha256

    def read_file(self, sha256: str) -> bytes:
        """The bytes of a stored attachment."""
        return self._file_path(sha256).read_bytes()

    def _file_path(self, sha256: str) -> Path:
        return self.root / "files" / sha256[:2] / sha256

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if self.fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
