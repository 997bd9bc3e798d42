"""Serialise "find it, else create it" across concurrent transactions on PostgreSQL.

Two ``claim add`` commands naming the same new speaker (or tag, or source) at the same moment
would both find nothing and both insert: one then fails on the unique key (speakers, tags) or,
where names may repeat (sources), the speaker's outlet is silently created twice. On PostgreSQL
the creating path therefore takes a transaction-scoped advisory lock on the name and looks
again: the second transaction waits for the first to commit and then finds its row (READ
COMMITTED gives each statement a fresh snapshot). Names that already exist never take the lock,
so ordinary writes do not queue behind each other.

SQLite needs nothing: factdb's write transactions start with ``BEGIN IMMEDIATE``, so writers
are already serialised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

# names hash into a fixed number of lock slots per namespace: a transaction that creates
# thousands of names (an import) then holds at most this many locks, well inside PostgreSQL's
# lock table (max_locks_per_transaction × connections); two names sharing a slot only wait
SLOTS = 256
NAMESPACES = {"speaker": 1, "claim": 2, "tag": 3, "source": 4}
_CLASSID = 0x0FAC7DB0  # first key of factdb's advisory locks, apart from other applications'


def _slot(namespace: str, key: str) -> int:
    digest = hashlib.blake2b(f"{namespace}:{key}".encode(), digest_size=4).digest()
    return NAMESPACES[namespace] * SLOTS + int.from_bytes(digest, "big") % SLOTS


def lock_names(session: Session, namespace: str, keys: Iterable[str]) -> None:
    """Hold locks on ``keys`` of ``namespace`` until the transaction ends (PostgreSQL only).

    Slots are taken in ascending order, so two transactions locking overlapping sets never
    wait for each other in a cycle. A transaction should lock namespaces in ``NAMESPACES``
    order (speaker, claim, tags, sources), as ``claim add`` does.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for slot in sorted({_slot(namespace, key) for key in keys}):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:classid, :slot)"),
            {"classid": _CLASSID, "slot": slot},
        )


def lock_name(session: Session, namespace: str, key: str) -> None:
    """Hold a lock on one name of ``namespace`` until the transaction ends (PostgreSQL only)."""
    lock_names(session, namespace, [key])
