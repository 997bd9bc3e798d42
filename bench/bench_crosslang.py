"""Benchmark: cross-language claim matching, top-1 accuracy per language.

Usage::

    python bench/bench_crosslang.py [--distractors 3000] [--data bench/data]

``bench/crosslang/claims.jsonl`` (written for this project) holds 52 claims, each with an
English rewording and translations of it into Arabic, Russian, Spanish and French. The
claims (in English) are recorded in a fresh SQLite database among N distractor claims from
``../shared/bench/gen_claims.py`` (imported first, with the ordinary CLI), vectors are built
with ``factdb match index``, and every rewording/translation is matched; the share of
queries whose own claim comes first is printed per language, for the semantic layer (with
lexical fusion, as ``claim match`` does by default) and for the lexical layer alone.
Needs the ``match`` extra; says so and exits 0 without it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = ROOT / "bench" / "crosslang" / "claims.jsonl"
GEN = ROOT.parent / "shared" / "bench" / "gen_claims.py"
LANGUAGES = ["en", "ar", "ru", "es", "fr"]


def main() -> None:
    """Build the database, match every query, print top-1 accuracy per language and layer."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--distractors", type=int, default=3000)
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from factdb.match import embedding, semantic

    if not embedding.available():
        print("skipped: the 'match' extra is not installed (pip install -e '.[match]')")
        return
    from sqlalchemy.orm import Session

    from factdb.db import make_engine
    from factdb.match.service import match_claims

    claims = [json.loads(line) for line in CLAIMS.read_text(encoding="utf-8").splitlines()]
    args.data.mkdir(parents=True, exist_ok=True)
    db = args.data / f"crosslang_{args.distractors}.db"
    if not db.exists():
        distractors = args.data / f"crosslang_distractors_{args.distractors}.jsonl"
        with distractors.open("w") as out:
            subprocess.run(
                [sys.executable, str(GEN), str(args.distractors), "11"], stdout=out, check=True
            )
        mine = args.data / "crosslang_claims.jsonl"
        with mine.open("w", encoding="utf-8") as out:
            for c in claims:
                record = {
                    "text": c["claim"],
                    "speaker": c["speaker"],
                    "origin": "crosslang",
                    "external_id": str(c["id"]),
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        factdb = [sys.executable, "-m", "factdb", "--db", str(db)]
        for step in (
            ["init"],
            ["import", "-q", str(distractors)],
            ["import", "-q", str(mine)],
            ["match", "index"],
        ):
            subprocess.run([*factdb, *step], check=True, stderr=subprocess.DEVNULL)
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        from sqlalchemy import text

        ids = dict(
            session.execute(
                text("SELECT external_id, id FROM statements WHERE origin = 'crosslang'")
            ).all()
        )
        ranker = semantic.ranker(session)
        total = session.scalar(text("SELECT count(*) FROM statements"))
        print(f"{len(claims)} claims among {total} recorded claims")
        for name, layer in (("semantic+lexical", ranker), ("lexical only", None)):
            cells = []
            for lang in LANGUAGES:
                right = 0
                for c in claims:
                    found = match_claims(session, c[lang], limit=1, semantic=layer)
                    right += bool(found) and found[0].claim_id == ids[str(c["id"])]
                cells.append(f"{lang} {right / len(claims):.0%}")
            print(f"{name}: top-1 " + ", ".join(cells))


if __name__ == "__main__":
    main()
