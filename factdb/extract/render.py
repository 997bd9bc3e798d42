"""The other output formats: JSON Lines (one record per attribution) and a summary table."""

from __future__ import annotations

import orjson
from tabulate import tabulate

from factdb.extract.model import Extraction
from factdb.extract.story import speaker_name


def to_jsonl(extraction: Extraction) -> str:
    """One JSON object per attribution: spans with offsets, speaker, kind, verb, chain, date."""
    lines = [orjson.dumps(a.as_dict()).decode("utf-8") for a in extraction.attributions]
    return "\n".join(lines) + ("\n" if lines else "")


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def to_table(extraction: Extraction) -> str:
    """A summary: one row per attribution."""
    rows = [
        [
            i + 1,
            _short(speaker_name(a.speaker), 24),
            _short(" ".join(c.text for c in a.cue), 14),
            a.quote_kind,
            a.said_on or "",
            _short(", ".join(link.source for link in a.chain), 24),
            _short(a.content_text, 60),
        ]
        for i, a in enumerate(extraction.attributions)
    ]
    headers = ["#", "speaker", "cue", "kind", "said_on", "chain", "content"]
    return tabulate(rows, headers=headers) + "\n"
