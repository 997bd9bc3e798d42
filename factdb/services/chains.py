"""Self-referencing chains (a speaker acts for another, a source is based on another)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar


class _Node(Protocol):
    id: int
    name: str


N = TypeVar("N", bound=_Node)


def cycle_through(node: N, target: N, parent: Callable[[N], N | None]) -> list[str] | None:
    """The names around the cycle that pointing ``node`` at ``target`` would close, or None.

    Follows ``parent`` from ``target``; stops at the end of the chain or at a loop already in
    the data that does not pass through ``node``.
    """
    seen: set[int] = set()
    current: N | None = target
    chain = [node.name]
    while current is not None and current.id not in seen:
        chain.append(current.name)
        if current.id == node.id:
            return chain
        seen.add(current.id)
        current = parent(current)
    return None
