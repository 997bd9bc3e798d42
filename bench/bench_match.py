"""Benchmark: claim matching quality on CLEF CheckThat! 2020 Task 2 (MAP@5, the lab's metric).

Usage::

    python bench/bench_match.py [--split dev|train|test] [--layer lexical|semantic|both]
                                [--data bench/data/clef2020]

The lab's data (GitHub sshaar/clef2020-factchecking-task2: data/v3.zip and
test-input/test-input.zip, unzipped into DIR) is not in this repository; without it the
benchmark says so and exits 0. The 10,375 verified claims are imported into a fresh SQLite
database (DIR/clef2020.db, rebuilt when missing) through factdb's own import, one claim per
Snopes claim (external id = the lab's vclaim id); each tweet is then matched with
``factdb.match.service.match_claims`` and MAP@5 is computed as the lab's scorer does
(trectools' TrecEval.get_map(depth=5): per query, the sum of precision at each relevant
retrieved rank within the first five, divided by the query's number of relevant claims,
averaged over every query of the gold file).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "bench" / "data" / "clef2020"
SPLITS = {
    "train": ("v3.0/train/tweets.queries.tsv", "v3.0/train/tweet-vclaim-pairs.qrels"),
    "dev": ("v3.0/dev/tweets.queries.tsv", "v3.0/dev/tweet-vclaim-pairs.qrels"),
    "test": ("tweets.queries.tsv", "tweet-vclaim-pairs.qrels"),
}
csv.field_size_limit(10**7)


def read_tsv(path: Path) -> list[list[str]]:
    """Rows of a lab TSV file without its header line."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    return rows[1:]


def build_db(data: Path) -> Path:
    """The verified claims in a factdb database (imported with the ordinary CLI once)."""
    db = data / "clef2020_context.db"
    if db.exists():
        return db
    jsonl = data / "verified_claims.jsonl"
    with jsonl.open("w", encoding="utf-8") as out:
        for vid, vclaim, title in read_tsv(data / "v3.0" / "verified_claims.docs.tsv"):
            # the fact-check's headline is the claim's context: what a desk records with it
            record = {
                "text": vclaim,
                "context": title,
                "speaker": "Snopes",
                "origin": "clef2020",
                "external_id": vid,
            }
            out.write(json.dumps(record) + "\n")
    factdb = [sys.executable, "-m", "factdb", "--db", str(db)]
    subprocess.run([*factdb, "init"], check=True)
    subprocess.run([*factdb, "import", str(jsonl)], check=True)
    return db


def read_gold(qrels: Path) -> dict[str, set[str]]:
    """Each tweet's relevant claims, from a lab qrels file (tweet, 0, claim, relevance)."""
    gold: dict[str, set[str]] = {}
    for line in qrels.read_text().splitlines():
        qid, _zero, doc, rel = line.split()
        if int(rel) > 0:
            gold.setdefault(qid, set()).add(doc)
    return gold


def map_at_k(run: dict[str, list[str]], gold: dict[str, set[str]], k: int = 5) -> float:
    """MAP@k as trectools computes it: AP over the first k results / number relevant."""
    total = 0.0
    for qid, relevant in gold.items():
        hits, ap = 0, 0.0
        for rank, doc in enumerate(run.get(qid, [])[:k], start=1):
            if doc in relevant:
                hits += 1
                ap += hits / rank
        total += ap / len(relevant)
    return total / len(gold)


def main() -> None:
    """Run the benchmark and print MAP@5 (and P@1) for the chosen split and layer."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev")
    parser.add_argument("--layer", choices=["lexical", "semantic", "both"], default="lexical")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, help="only the first N tweets (development)")
    args = parser.parse_args()
    queries_file, qrels_file = (args.data / p for p in SPLITS[args.split])
    if not queries_file.exists() or not (args.data / "v3.0" / "verified_claims.docs.tsv").exists():
        print(f"skipped: CheckThat! 2020 Task 2 data not found under {args.data} (see docstring)")
        return
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from factdb.db import make_engine
    from factdb.match.service import match_claims

    db = build_db(args.data)
    engine = make_engine(f"sqlite:///{db}")
    gold = read_gold(qrels_file)
    tweets = read_tsv(queries_file)[: args.limit]
    gold = {q: d for q, d in gold.items() if q in {row[0] for row in tweets}}
    semantic = None
    layers = {"lexical": [("lexical", None)]}
    with Session(engine) as session:
        external = dict(session.execute(text("SELECT id, external_id FROM statements")).all())
        if args.layer != "lexical":
            from factdb.match.semantic import ranker

            semantic = ranker(session)
        layers = (
            [("lexical", None)]
            if args.layer == "lexical"
            else [("semantic", semantic)]
            if args.layer == "semantic"
            else [("lexical", None), ("lexical+semantic", semantic)]
        )
        for name, layer in layers:
            start = time.perf_counter()
            run = {
                qid: [
                    external[m.claim_id]
                    for m in match_claims(session, tweet, limit=5, semantic=layer)
                ]
                for qid, tweet in tweets
            }
            seconds = time.perf_counter() - start
            p1 = sum(1 for q, d in gold.items() if run.get(q, [None])[:1][0] in d) / len(gold)
            print(
                f"{args.split} ({len(gold)} tweets) {name}: MAP@5 {map_at_k(run, gold):.3f}, "
                f"P@1 {p1:.3f}, {seconds / len(tweets) * 1000:.0f} ms a tweet"
            )


if __name__ == "__main__":
    main()
