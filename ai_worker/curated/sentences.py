"""A long curated answer cut to its sentences most relevant to the question."""

from __future__ import annotations

import re

import numpy as np

from ai_worker.curated.match import Embed

#: An answer longer than this is cut to its most relevant sentences.
LONG_ANSWER_CHARS = 400
MAX_SENTENCES = 3
#: Sentences within this cosine of the best one are kept with it (up to MAX_SENTENCES).
KEEP_WITHIN = 0.08
#: A first sentence this short ("Yes.", "Not yet.") is the direct reply to a yes/no question: kept.
SHORT_LEAD_CHARS = 25

_SPLIT = re.compile(r"(?<=[.!?؟])\s+(?=\S)|\n+")


def split_sentences(text: str) -> list[str]:
    """Sentences and list items, in order (a list item is a sentence of its own)."""
    parts = (p.strip().lstrip("-*• ").strip() for p in _SPLIT.split(text))
    return [p for p in parts if p]


def relevant_sentences(*, question: str, answer: str, embed: Embed) -> str:
    """`answer` itself when short; else its 1-3 sentences closest to the question, in their order."""
    if len(answer) <= LONG_ANSWER_CHARS:
        return answer
    sentences = split_sentences(answer)
    if len(sentences) <= 1:
        return answer
    vectors = np.asarray(embed([question, *sentences]), dtype=np.float32)
    scores = vectors[1:] @ vectors[0]
    best = float(scores.max())
    ranked = sorted(range(len(sentences)), key=lambda i: -scores[i])
    kept = {i for i in ranked[:MAX_SENTENCES] if scores[i] >= best - KEEP_WITHIN}
    if len(sentences[0]) <= SHORT_LEAD_CHARS:
        kept.add(0)
    return " ".join(sentences[i] for i in sorted(kept))
