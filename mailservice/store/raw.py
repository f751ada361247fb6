"""Content-addressed store of raw messages on a filesystem path.

A message is written once under its SHA-256 (``ab/cd/abcd...eml``), atomically: a
temp file, fsync, rename. Writing the same bytes again is a no-op, so a sync that
crashed and runs again never stores a second copy. The root can be a path on
shared storage (NFS, a mounted bucket) so workers on other machines read it too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterable

log = logging.getLogger(__name__)


class RawStore:
    """Raw messages on disk, found by the hex SHA-256 of their bytes."""

    def __init__(self, root: Path, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the message with this hash lives (whether or not it exists)."""
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.eml"

    def exists(self, sha256: str) -> bool:
        """Whether the message with this hash is stored."""
        return self.path(sha256).exists()

    def put(self, raw: bytes) -> str:
        """Store `raw` and return its hash."""
        return self.put_chunks([raw])

    def put_chunks(self, chunks: Iterable[bytes]) -> str:
        """Store a message that arrives in pieces, never holding it whole; its hash."""
        digest = hashlib.sha256()
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    digest.update(chunk)
                    handle.write(chunk)
                if self.fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            sha256 = digest.hexdigest()
            self._move_into_place(Path(temp_name), sha256)
            return sha256
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def _move_into_place(self, temp: Path, sha256: str) -> None:
        target = self.path(sha256)
        if target.exists():
            temp.unlink()
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        log.debug("stored raw message sha256=%s", sha256)

    def read(self, sha256: str) -> bytes:
        """The raw bytes of a stored message."""
        return self.path(sha256).read_bytes()

    def open(self, sha256: str) -> BinaryIO:
        """A binary file object on a stored message, for streaming large ones."""
        return self.path(sha256).open("rb")
