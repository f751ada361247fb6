"""The real-world test corpus, one message at a time: (source label, raw bytes).

The corpus lives beside the repository (../shared/corpus from the repo root, see
`CORPUS_DIR` in conftest.py). Files that are not messages are left out: licences
and notices, the README, talon's `html_replies/*.html` (bare HTML reply bodies, no
header block) and talon's `*_reply_text` (expected plain-text outputs). Message
files have no common extension: `.eml`, `.txt`, `.msg` and the extension-less
SpamScope samples (`mail_outlook_1` among them is an Outlook CDFV2 .msg file, not
MIME; it stays, because a mailbox can hold such junk too).

The README counts 266 messages: 227 single-message files plus 39 in four mbox
files, the 39 being what the stdlib `mailbox.mbox` finds. The mbox files really
hold 40: `unmunged.mbox.txt` starts with a UTF-8 byte-order mark, which hides its
first "From " line from `mailbox.mbox`, so the first message is lost whole. By the
mbox rule (every line starting "From " opens a message; the file tests unescaped
"From Russia with love" lines, and MimeKit's own test expects 4 messages in it)
that file holds 4. We split by that rule after dropping the mark: 267 in all. For
the other three files the split is byte-for-byte what `mailbox.mbox` gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from tests.conftest import CORPUS_DIR

DOCUMENTED_MESSAGE_COUNT = 266  # the README's figure, see above
MESSAGE_COUNT = 267  # what the corpus really holds

_NOT_MESSAGES = {"LICENSE", "NOTICE", "README.md"}
_MBOX_SUFFIX = ".mbox.txt"
_BYTE_ORDER_MARK = b"\xef\xbb\xbf"


def corpus_files(root: Path = CORPUS_DIR) -> list[Path]:
    """Every message-bearing file of the corpus, in a stable order."""
    return sorted(p for p in root.rglob("*") if p.is_file() and _is_message_file(p))


def corpus_messages(root: Path = CORPUS_DIR) -> Iterator[tuple[str, bytes]]:
    """Yield (label relative to the corpus root, raw bytes) for every message."""
    for path in corpus_files(root):
        label = path.relative_to(root).as_posix()
        if path.name.endswith(_MBOX_SUFFIX):
            for index, raw in enumerate(split_mbox(path.read_bytes())):
                yield f"{label}#{index}", raw
        else:
            yield label, path.read_bytes()


def corpus_message(label: str, root: Path = CORPUS_DIR) -> bytes:
    """The raw bytes of one corpus message by its label (`path` or `path#n`)."""
    path, _, index = label.partition("#")
    data = (root / path).read_bytes()
    return split_mbox(data)[int(index)] if index else data


def split_mbox(data: bytes) -> list[bytes]:
    """The messages of an mbox file, without their "From " separator lines."""
    messages: list[list[bytes]] = []
    for line in data.removeprefix(_BYTE_ORDER_MARK).splitlines(keepends=True):
        if line.startswith(b"From "):
            messages.append([])
        elif messages:
            messages[-1].append(line)
    return [_without_separating_line_end(b"".join(m)) for m in messages]


def _without_separating_line_end(raw: bytes) -> bytes:
    # An empty line before the next "From " line belongs to the mbox, not to
    # the message (as in mailbox.mbox).
    for ending in (b"\r\n\r\n", b"\n\n"):
        if raw.endswith(ending):
            return raw[: -len(ending) // 2]
    return raw


def _is_message_file(path: Path) -> bool:
    if path.name in _NOT_MESSAGES:
        return False
    if path.parent.name == "html_replies" and path.suffix == ".html":
        return False
    return not path.name.endswith("_reply_text")
