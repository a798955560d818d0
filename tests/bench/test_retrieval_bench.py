"""The retrieval benchmark's 'before' keyword analysis is the one the worker used before issue #16."""

from __future__ import annotations

import bm25s

from ai_worker.retrieval.store import Hit
from bench.retrieval import LabelledQuery, _first_relevant, _legacy_analyser, _recalls
from parley_testkit.stack import SAMPLE_KB


def test_the_before_analysis_is_bm25s_tokenizer() -> None:
    texts = [p.read_text() for p in sorted(SAMPLE_KB.glob("*.md"))] + ["كم سعر DO-ARM-2048؟ Сколько стоит?"]
    tokenizer = bm25s.tokenization.Tokenizer(stopwords="en", splitter=r"(?u)\b\w+\b", stemmer=None)
    ids = tokenizer.tokenize(texts, return_as="ids", show_progress=False)
    vocab = {i: t for t, i in tokenizer.get_vocab_dict().items()}
    legacy = _legacy_analyser()
    for text, token_ids in zip(texts, ids, strict=True):
        assert legacy(text) == [vocab[i] for i in token_ids]


def test_recall_counts_the_first_relevant_hit() -> None:
    def hit(document_id: str, text: str = "") -> Hit:
        return Hit(chunk_id=document_id, text=text, document_id=document_id, document="", score=0.0)

    query = LabelledQuery(text="q", relevant={"b"}, language="en", expect="AED 95")
    assert _first_relevant([hit("a"), hit("b", "fee"), hit("b", "fee AED 95")], query) == 3
    assert _recalls([1, 3, None, 1]) == ["0.500", "0.750", "0.583"]
