"""Vector storage and search of the semantic matching layer, on both backends: what is stored
is what is read back (in blocks, whatever their size), cosines equal a float64 reference,
other models' vectors and damaged rows are never scored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from factdb import tables as t
from factdb.errors import FactdbError
from factdb.match import embedding, semantic
from factdb.services.seeding import default_seed_files, load_seed_files

np = pytest.importorskip("numpy")
needs_model = pytest.mark.skipif(not embedding.available(), reason="the 'match' extra is absent")


def _claims(engine: Engine) -> list[int]:
    """The seed story's claim ids (vectors need claims to belong to)."""
    with Session(engine) as session:
        load_seed_files(session, default_seed_files())
        session.commit()
        return list(session.scalars(t.statements.select().with_only_columns(t.statements.c.id)))


def _store(engine: Engine, rows: dict[int, bytes], model: str = embedding.MODEL) -> None:
    with Session(engine) as session:
        session.execute(
            insert(t.claim_vectors),
            [{"statement_id": i, "model": model, "vector": v} for i, v in rows.items()],
        )
        session.commit()


def _random_vectors(ids: list[int], seed: int = 7) -> dict[int, Any]:
    """Float vectors, one per id, each model's part a unit vector (as ``embed`` gives them),
    and their int8 bytes as ``store`` writes them."""
    rng = np.random.default_rng(seed)
    floats = rng.standard_normal((len(ids), embedding.DIM)).astype(np.float32)
    for _name, start, end in embedding.PARTS:
        floats[:, start:end] /= np.linalg.norm(floats[:, start:end], axis=1, keepdims=True)
    return dict(zip(ids, zip(floats, semantic.to_bytes(floats), strict=True), strict=True))


@pytest.mark.parametrize("block", [1, 3, semantic.READ_BLOCK])
def test_vectors_read_back_in_blocks_score_like_a_float_reference(
    engine: Engine, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semantic, "WIDEN_ROWS", 2)  # widened rows cross the read blocks
    ids = _claims(engine)
    assert len(ids) >= 5
    vectors = _random_vectors(ids)
    _store(engine, {i: raw for i, (_, raw) in vectors.items()})
    query = vectors[ids[2]][0]
    with Session(engine) as session:
        index = semantic.load_vectors(session, block=block)
    assert sorted(index.ids.tolist()) == sorted(ids)
    assert sum(len(b) for b in index.blocks) == len(ids)
    assert all(len(b) <= block for b in index.blocks)
    cosines = index.cosines(query)
    assert cosines.shape == (len(embedding.PARTS), len(ids))
    for m, (_name, start, end) in enumerate(embedding.PARTS):
        for n, claim_id in enumerate(index.ids.tolist()):
            raw = np.frombuffer(vectors[claim_id][1], dtype=np.int8).astype(np.float64)
            stored = raw[start:end]
            expected = stored @ query[start:end] / np.linalg.norm(stored)
            assert cosines[m, n] == pytest.approx(expected, abs=1e-5)
            # int8 storage keeps each model's cosine of the float vectors within rounding
            exact = float(vectors[claim_id][0][start:end] @ query[start:end])
            assert cosines[m, n] == pytest.approx(exact, abs=0.01)
        assert int(index.ids[int(np.argmax(cosines[m]))]) == ids[2]
    # the norms are kept from the first query: a second one scores the same
    assert np.array_equal(index.cosines(query), cosines)


def test_positions_find_stored_claims_and_leave_out_the_others(engine: Engine) -> None:
    ids = _claims(engine)
    with_vectors = ids[1::2]
    _store(engine, {i: raw for i, (_, raw) in _random_vectors(with_vectors).items()})
    with Session(engine) as session:
        index = semantic.load_vectors(session, block=2)
    found = index.positions(ids + [max(ids) + 1000, -1])
    assert set(found) == set(with_vectors)
    assert all(int(index.ids[n]) == claim_id for claim_id, n in found.items())
    assert index.positions([]) == {}


def test_other_models_vectors_are_not_read_and_none_is_a_clear_error(engine: Engine) -> None:
    ids = _claims(engine)
    _store(engine, {i: raw for i, (_, raw) in _random_vectors(ids).items()}, model="other-v1")
    with Session(engine) as session, pytest.raises(semantic.NoVectors) as refused:
        semantic.load_vectors(session)
    assert str(refused.value) == (
        "this database's claim vectors are of another model (other-v1): "
        "run 'factdb match index' to build this version's"
    )


def test_a_zero_vector_scores_zero_and_a_damaged_one_is_refused(engine: Engine) -> None:
    ids = _claims(engine)
    vectors = _random_vectors(ids[1:])
    _store(engine, {ids[0]: bytes(embedding.DIM)} | {i: raw for i, (_, raw) in vectors.items()})
    with Session(engine) as session:
        index = semantic.load_vectors(session)
        cosines = index.cosines(vectors[ids[1]][0])
    assert np.isfinite(cosines).all()
    assert (cosines[:, index.positions([ids[0]])[ids[0]]] == 0.0).all()
    with Session(engine) as session:
        session.execute(
            t.claim_vectors.update()
            .where(t.claim_vectors.c.statement_id == ids[1])
            .values(vector=b"\x01\x02")
        )
        with pytest.raises(FactdbError, match=f"not {embedding.DIM} bytes"):
            semantic.load_vectors(session)


def _ranked(engine: Engine, template: str, queries: Any) -> Any:
    """The claims' ids, and the ranker's answer (shortlist 2) to each (query, excluded id,
    other candidates) of ``queries(ids)``, each claim embedded as ``template`` with its id."""
    ids = _claims(engine)
    with Session(engine) as session:
        docs = [(i, semantic.document(template.format(i), "Someone")) for i in ids]
        semantic.store(session, docs)
        session.commit()
        rank = semantic.ranker(session)
        found = [rank(session, q, 2, exclude, others) for q, exclude, others in queries(ids)]
    return ids, found


@needs_model
def test_the_ranker_scores_its_shortlist_and_the_other_candidates(engine: Engine) -> None:
    ids, (found,) = _ranked(
        engine,
        "claim number {} about bread",
        lambda ids: [(f"claim number {ids[0]} about bread", ids[1], [ids[-1], -5])],
    )
    assert set(found) == {name for name, _start, _end in embedding.PARTS}
    for cosines in found.values():
        assert ids[1] not in cosines  # excluded
        assert ids[-1] in cosines and -5 not in cosines  # another candidate is scored
        assert max(cosines, key=cosines.__getitem__) == ids[0]
        assert all(-1.0 <= value <= 1.0 for value in cosines.values())
    assert found[embedding.PARTS[0][0]].keys() == found[embedding.PARTS[1][0]].keys()


@needs_model
def test_the_english_model_counts_for_english_queries_only(engine: Engine) -> None:
    _ids, (english, russian) = _ranked(
        engine,
        "the bakery sold bread number {}",
        lambda _ids: [
            ("did the bakery really sell that bread?", None, []),
            ("пекарня действительно продавала этот хлеб?", None, []),
        ],
    )
    every = [name for name, _start, _end in embedding.PARTS]
    assert embedding.query_language("пекарня действительно продавала этот хлеб?") == "ru"
    assert list(english) == every
    assert list(russian) == [n for n in every if n != embedding.MiniLMEncoder.name]
    assert embedding.models_for("en") == every


def test_the_build_finds_the_claims_without_a_vector_of_this_model(engine: Engine) -> None:
    ids = _claims(engine)
    vectors = _random_vectors(ids)
    _store(engine, {i: raw for i, (_, raw) in vectors.items() if i in ids[::2]})
    _store(engine, {ids[1]: vectors[ids[1]][1]}, model="other-v1")  # not this model's
    todo = sorted(i for i in ids if i not in ids[::2])
    with Session(engine) as session:
        assert semantic.missing(session) == len(todo)
        batches = list(semantic.missing_batches(session, size=2))
    assert [i for batch in batches for i, _ in batch] == todo
    assert all(len(batch) <= 2 for batch in batches)
    assert all(" says: " in document for batch in batches for _, document in batch)
