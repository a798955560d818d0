"""A CI-sized slice of the answer benchmark (bench/answers.py) through the real stack — gateway,
one worker, the bundled Gemma model and MiniLM, both knowledge bases uploaded through the API —
with the embedded default (ANSWER_GENERATION=auto): the correctness floor holds.

The full set (351 questions, both pipelines side by side) is `make bench`; its figures are in
docs/BENCHMARKS.md. The generated path with the real model is exercised by the test stacks
(ANSWER_GENERATION=model: tests/e2e/test_answer.py, test_grounded_answers.py)."""

from __future__ import annotations

import pytest

from bench.answers import KNOWLEDGE_BASES, Result, load_questions, run_benchmark, select_slice
from tests.support import redis_dbs as dbs
from tests.support.databases import redis_url

#: Questions repeating a FAQ heading of their knowledge base: the curated path.
CURATED = {"dune_oak": ("do-policy-04", "do-policy-09"), "clinic": ("pb-policy-10",)}
SIZES = {"dune_oak": 24, "clinic": 12}
#: The share of the slice answered right (89% on the full set when this was written).
FLOOR = 0.85

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def results() -> list[Result]:
    selections = {}
    for kb, (_, path) in KNOWLEDGE_BASES.items():
        questions = load_questions(path)
        chosen = select_slice(questions, SIZES[kb])
        chosen += [q for q in questions if q.id in CURATED[kb] and q not in chosen]
        selections[kb] = chosen
    return run_benchmark(selections, pipelines=("grounded",), verbose=False, redis=redis_url(dbs.ANSWER_SLICE))


def _misses(results: list[Result]) -> str:
    return "\n".join(f"{r.question.id} [{r.path}] {r.question.question!r} -> {r.answer!r}" for r in results)


def test_the_slice_covers_every_kind_both_businesses_arabic_and_russian(results: list[Result]) -> None:
    assert len(results) >= 30
    assert {r.kb for r in results} == set(KNOWLEDGE_BASES)
    assert {r.question.language for r in results} >= {"en", "ar", "ru"}
    assert {r.path for r in results} >= {"catalog", "curated", "extractive", "fallback"}


def test_the_answers_meet_the_correctness_floor(results: list[Result]) -> None:
    wrong = [r for r in results if not r.score.correct]
    assert len(results) - len(wrong) >= FLOOR * len(results), _misses(wrong)


def test_no_invented_number_no_echo_and_every_answer_in_the_customers_language(results: list[Result]) -> None:
    assert not [r for r in results if r.score.invented], _misses([r for r in results if r.score.invented])
    assert not [r for r in results if r.score.echo or r.score.transcript]
    assert all(r.score.in_language for r in results), _misses([r for r in results if not r.score.in_language])


def test_every_unanswerable_question_is_declined_and_handed_on(results: list[Result]) -> None:
    unanswerable = [r for r in results if not r.question.answerable]
    assert unanswerable
    declined = [r for r in unanswerable if r.score.abstained]
    assert len(declined) >= 0.9 * len(unanswerable), _misses([r for r in unanswerable if not r.score.abstained])
