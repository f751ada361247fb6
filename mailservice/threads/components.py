"""Connected components of messages and the threads they already sit in.

Threading is a union of links: whatever order messages arrive in, the same links
make the same components, and a component is one thread.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from mailservice.threads.batch import ThreadedMessage

Node = tuple[str, int]  # ("message", id) or ("thread", id)


@dataclass
class Group:
    """One component: its existing threads, and its messages not yet in any thread."""

    thread_ids: set[int] = field(default_factory=set)
    unthreaded: list[ThreadedMessage] = field(default_factory=list)
    message_ids: set[int] = field(default_factory=set)

    @property
    def is_settled(self) -> bool:
        """True when nothing changes: one thread, and every message already in it."""
        return len(self.thread_ids) == 1 and not self.unthreaded


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Node, Node] = {}

    def find(self, node: Node) -> Node:
        self.parent.setdefault(node, node)
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: Node, b: Node) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def group_messages(
    messages: dict[int, ThreadedMessage], pairs: Iterable[tuple[int, int]]
) -> list[Group]:
    """Split the messages into components joined by pairs and shared threads."""
    sets = _UnionFind()
    for message in messages.values():
        sets.find(("message", message.id))
        if message.thread_id is not None:
            sets.union(("message", message.id), ("thread", message.thread_id))
    for a, b in pairs:
        sets.union(("message", a), ("message", b))

    groups: dict[Node, Group] = defaultdict(Group)
    for message in messages.values():
        group = groups[sets.find(("message", message.id))]
        group.message_ids.add(message.id)
        if message.thread_id is None:
            group.unthreaded.append(message)
        else:
            group.thread_ids.add(message.thread_id)
    return list(groups.values())
