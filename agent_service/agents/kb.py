"""Knowledge-base search: a deterministic hashing "embedding" plus token overlap.

``search`` returns the top documents and a :class:`Retrieval` whose timings (total and the
query-embedding step) and relevance scores (0..1) feed the RAG metrics."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from agent_service.agents.data import Document
from agent_service.agents.text import content_tokens
from agent_service.domain import Retrieval

__all__ = ["DIMENSIONS", "Hit", "KnowledgeBase", "embed"]

DIMENSIONS = 64


def _bucket(token: str) -> int:
    digest = hashlib.blake2b(token.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % DIMENSIONS


def embed(text: str) -> tuple[float, ...]:
    """A unit-length hashed bag of content tokens (all components >= 0)."""
    vector = [0.0] * DIMENSIONS
    for token in content_tokens(text):
        vector[_bucket(token)] += 1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        return tuple(vector)
    return tuple(v / norm for v in vector)


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class Hit:
    document: Document
    score: float  # 0..1


class KnowledgeBase:
    def __init__(self, documents: Sequence[Document], top_k: int = 3) -> None:
        self.documents = tuple(documents)
        self.top_k = top_k
        self._vectors = tuple(embed(f"{d.title} {d.text}") for d in self.documents)
        self._tokens = tuple(frozenset(content_tokens(f"{d.title} {d.text}")) for d in documents)

    def search(self, query: str) -> tuple[tuple[Hit, ...], Retrieval]:
        """Top ``top_k`` documents by relevance = mean of cosine similarity (hashed
        embeddings) and the share of query tokens the document contains."""
        started = time.perf_counter()
        query_vector = embed(query)
        embedding_s = time.perf_counter() - started
        query_tokens = set(content_tokens(query))
        ranked: list[Hit] = []
        for document, vector, doc_tokens in zip(
            self.documents, self._vectors, self._tokens, strict=True
        ):
            overlap = len(query_tokens & doc_tokens) / len(query_tokens) if query_tokens else 0.0
            score = 0.5 * max(0.0, min(1.0, _cosine(query_vector, vector))) + 0.5 * overlap
            ranked.append(Hit(document, round(min(1.0, max(0.0, score)), 4)))
        ranked.sort(key=lambda hit: (-hit.score, hit.document.id))
        hits = tuple(ranked[: self.top_k])
        latency_s = time.perf_counter() - started
        return hits, Retrieval(latency_s, embedding_s, tuple(hit.score for hit in hits))
