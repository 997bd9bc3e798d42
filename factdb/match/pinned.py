"""Model files checked against the official files' SHA-256 before they are used.

The packages that carry the semantic layer's weights are not all published by the models'
authors; the trust rests on the hashes, which independent projects pin for the same files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from factdb.errors import FactdbError


class WeightsMismatch(FactdbError):
    """A package's model file is not the official one."""


def read_pinned(path: Path, sha256: str, model: str) -> bytes:
    """The bytes of ``path``, when their SHA-256 is ``sha256`` (WeightsMismatch otherwise).

    Read once, so that the bytes checked are the bytes used (no second read of a file that
    could have changed between the check and the use).
    """
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise WeightsMismatch(f"{path} is not the official {model} file (sha256 differs)")
    return data
