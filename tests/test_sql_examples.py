"""The documented example SQL queries run on the seeded database and return rows.

They are read from README.md's "## Example SQL queries" section, so the README cannot drift.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Example SQL queries"


def example_queries() -> list[str]:
    """The ```sql blocks of the example section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert HEADING in readme, f"README.md has no {HEADING!r} section"
    section = readme.split(HEADING, 1)[1]
    section = re.split(r"\n## ", section, maxsplit=1)[0]
    return [b.strip() for b in re.findall(r"```sql\n(.*?)```", section, flags=re.S)]


def test_there_are_examples_for_each_promised_question():
    queries = "\n".join(example_queries())
    assert len(example_queries()) >= 4
    for needle in ("claim_overview", "denies", "effective_on <=", "speaker_scorecard"):
        assert needle in queries


def test_every_example_runs_on_the_seeded_database(run, db_url):
    """All examples on one seeded database per backend (seeding per query would be slow)."""
    seeded = run("seed")
    assert seeded.exit_code == 0, seeded.stderr
    sqlite = db_url.startswith("sqlite")
    ran = 0
    for query in example_queries():
        if "-- sqlite only" in query and not sqlite:
            continue  # uses SQLite's full-text index directly
        result = run("sql", "--format", "json", "--", query)
        assert result.exit_code == 0, (query, result.stderr)
        assert json.loads(result.stdout), (
            f"example returned no rows on the seeded database:\n{query}"
        )
        ran += 1
    assert ran >= 4


def test_examples_answer_correctly(run_sqlite):
    """Spot checks of what the examples say about the seed story."""
    assert run_sqlite("seed").exit_code == 0

    def rows_of(marker: str) -> list[dict]:
        query = next(q for q in example_queries() if marker in q)
        return json.loads(run_sqlite("sql", "--format", "json", "--", query).stdout)

    # on 2021-10-15 NATO's accusation stood as "alleged"; Moscow's denial came later
    assert [(r["claim_id"], r["status"]) for r in rows_of("ROW_NUMBER")] == [(1, "alleged")]
    denials = rows_of("'denies'")
    assert [(r["denied_by"], r["alleged_by"], r["allegation_status"]) for r in denials] == [
        ("Russian government", "NATO", "denied")
    ]
    scorecard = {r["speaker"]: r for r in rows_of("speaker_scorecard")}
    assert scorecard["NATO"]["denied"] == 1
