"""Choosing the fusion's constants (``factdb.match.service.FUSION``) on CheckThat! 2020 train.

Usage::

    python bench/tune_match_fusion.py [--tune train] [--check dev] [--data bench/data/clef2020]

Each tweet's candidates are gathered once (``service.candidates``: both layers' shortlists and
what every layer says of each); the fusion's constants are then chosen by coordinate ascent on
the ``--tune`` split's MAP@5 (each constant in turn set to the best of its grid, until none
moves), ordering with ``service.fused`` itself, so that the tuned order is the one
``claim match`` gives. Printed: MAP@5 on both splits of today's ``FUSION`` and of the tuned
constants. Never tune on the test split: it is scored once, by bench_match.py.
Needs the lab's data (see bench_match.py) and the ``match`` extra with vectors built
(``factdb --db DIR/clef2020_context.db match index``); says so and exits 0 without them.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_match import (
    DEFAULT_DATA,
    ROOT,
    SPLITS,
    build_db,
    map_at_k,
    read_gold,
    read_tsv,
)  # noqa: E402

# USE's cosine weight is kept at least this: below it the cross-language set's Arabic queries
# fall under 90 % (bench_crosslang.py: 79 % at 0.1 with e5's share 0.3; chosen on that set,
# which has no held-out part), since e5 knows translations far less well than USE
USE_COSINE_FLOOR = 0.3
# factdb's claim id -> the lab's (set once the database is open)
EXTERNAL: dict[int, str] = {}
# (tweet id, its candidates) of each tweet, and each tweet's relevant claims
Gathered = tuple[list[tuple[str, list[Any]]], dict[str, set[str]]]
GRIDS = {
    "rrf_k": [2, 3, 5, 8, 12, 20],
    "share": [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5],
    "cosine": [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5],
}


def gather(session: Any, ranker: Any, data: Path, split: str) -> Gathered:
    """(tweet id, candidates) of every tweet of ``split``, and its gold claims."""
    from factdb.match.service import candidates

    queries_file, qrels_file = (data / p for p in SPLITS[split])
    gold = read_gold(qrels_file)
    gathered = []
    for qid, tweet in read_tsv(queries_file):
        gathered.append((qid, candidates(session, tweet, semantic=ranker)))
    return gathered, gold


def score(gathered: list[Any], gold: dict[str, set[str]], fusion: Any) -> float:
    """MAP@5 of the fused order of every tweet's candidates."""
    from factdb.match.service import fused

    run = {qid: [m.claim_id for m in fused(found, fusion)[:5]] for qid, found in gathered}
    # the lab's ids, compared with its gold file
    run = {qid: [EXTERNAL[i] for i in ids] for qid, ids in run.items()}
    return map_at_k(run, gold)


def variants(fusion: Any) -> Iterator[Any]:
    """Every fusion differing from ``fusion`` in one constant, over its grid (USE's cosine
    weight no lower than ``USE_COSINE_FLOOR``)."""
    from factdb.match.service import USE

    for k in GRIDS["rrf_k"]:
        yield replace(fusion, rrf_k=k)
    for model in fusion.shares:
        for share in GRIDS["share"]:
            shares = fusion.shares | {model: share}
            if sum(shares.values()) < 1:
                yield replace(fusion, shares=shares)
        for weight in GRIDS["cosine"]:
            if model == USE and weight < USE_COSINE_FLOOR:
                continue
            yield replace(fusion, cosine_weights=fusion.cosine_weights | {model: weight})


def ascend(gathered: list[Any], gold: dict[str, set[str]], fusion: Any) -> tuple[Any, float]:
    """The fusion reached by coordinate ascent from ``fusion`` on MAP@5."""
    best, best_score = fusion, score(gathered, gold, fusion)
    moved = True
    while moved:
        moved = False
        for candidate in variants(best):
            value = score(gathered, gold, candidate)
            if value > best_score + 1e-9:
                best, best_score, moved = candidate, value, True
    return best, best_score


def main() -> None:
    """Gather both splits' candidates, tune on one, print both splits' MAP@5."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", choices=["train", "dev"], default="train")
    parser.add_argument("--check", choices=["train", "dev"], default="dev")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the candidates gathered by the last run (DIR/fusion_candidates.pickle)",
    )
    args = parser.parse_args()
    if not (args.data / "v3.0" / "verified_claims.docs.tsv").exists():
        print(f"skipped: CheckThat! 2020 Task 2 data not found under {args.data}")
        return
    sys.path.insert(0, str(ROOT))
    from factdb.match import embedding, semantic

    if not embedding.available():
        print("skipped: the 'match' extra is not installed (pip install -e '.[match]')")
        return
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from factdb.db import make_engine
    from factdb.match.service import FUSION, USE

    engine = make_engine(f"sqlite:///{build_db(args.data)}")
    with Session(engine) as session:
        EXTERNAL.update(session.execute(text("SELECT id, external_id FROM statements")).all())
        saved = args.data / "fusion_candidates.pickle"
        if args.reuse and saved.exists():
            tune, check = pickle.loads(saved.read_bytes())
        else:
            ranker = semantic.ranker(session)
            tune = gather(session, ranker, args.data, args.tune)
            check = gather(session, ranker, args.data, args.check)
            saved.write_bytes(pickle.dumps((tune, check)))
    print(
        f"today's FUSION: {args.tune} {score(*tune, FUSION):.3f}, "
        f"{args.check} {score(*check, FUSION):.3f}  {FUSION}"
    )
    floor = max(FUSION.cosine_weights[USE], USE_COSINE_FLOOR)
    start = replace(FUSION, cosine_weights=FUSION.cosine_weights | {USE: floor})
    tuned, value = ascend(*tune, start)
    print(
        f"tuned on {args.tune}: {args.tune} {value:.3f}, "
        f"{args.check} {score(*check, tuned):.3f}  {tuned}"
    )


if __name__ == "__main__":
    main()
