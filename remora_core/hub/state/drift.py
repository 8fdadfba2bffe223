"""Semantic drift between two versions of a node: embedding distance through an
OpenAI-compatible ``/v1/embeddings`` endpoint when configured, else a deterministic lexical
distance (cosine over identifier counts). The result says which method measured it."""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from remora_core.config import HubConfig
from remora_core.errors import RemoraError
from remora_core.hub.state.analysis import identifiers

DriftMethod = Literal["embedding", "lexical"]


class EmbeddingError(RemoraError):
    """The embeddings endpoint could not be used."""


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def lexical_distance(old: str, new: str) -> float:
    """1 - cosine similarity of the identifier counts (0: same vocabulary, 1: disjoint)."""
    a, b = identifiers(old), identifiers(new)
    if not a and not b:
        return 0.0
    keys = sorted(set(a) | set(b))
    return round(1.0 - cosine([a[k] for k in keys], [b[k] for k in keys]), 4)


def counter_similarity(a: Counter[str], b: Counter[str]) -> float:
    keys = set(a) & set(b)
    if not keys:
        return 0.0
    dot = sum(a[k] * b[k] for k in keys)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


class Embedder:
    """Embeddings through the ``openai`` client (any OpenAI-compatible server)."""

    def __init__(self, config: HubConfig) -> None:
        from openai import OpenAI  # imported only when embeddings are configured

        self.model = config.embeddings_model
        self.client = OpenAI(
            base_url=config.embeddings_url,
            api_key=os.environ.get(config.embeddings_api_key_env) or "none",
            timeout=10.0,
            max_retries=0,
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        try:
            response = self.client.embeddings.create(model=self.model, input=list(texts))
        except Exception as error:  # noqa: BLE001 - any client failure is one project error
            raise EmbeddingError(f"embeddings at {str(self.client.base_url)!r} failed: {error}") from None
        return [list(item.embedding) for item in sorted(response.data, key=lambda item: item.index)]


def drift(old: str, new: str, embedder: Embedder | None) -> tuple[float, DriftMethod, str]:
    """(distance 0..1, method, note). Falls back to lexical when the endpoint fails (noted)."""
    if embedder is not None:
        try:
            first, second = embedder.embed([old, new])
            return round(max(0.0, 1.0 - cosine(first, second)), 4), "embedding", ""
        except EmbeddingError as error:
            return lexical_distance(old, new), "lexical", str(error)
    return lexical_distance(old, new), "lexical", ""
