"""The output guard: answers that leak the instructions or our delimiters become a refusal."""

from __future__ import annotations

from ai_worker.output_guard import LEAK_WORDS, REFUSALS, check_answer, refusal, shared_run
from ai_worker.prompt import DATA_RULES, instructions_for
from parley_contract.schemas import TenantSettings

SETTINGS = TenantSettings(business_name="Dune & Oak Home")
INSTRUCTIONS = instructions_for(settings=SETTINGS, language="en")


def check(answer: str, language: str | None = "en") -> str | None:
    return check_answer(answer, instructions=INSTRUCTIONS, language=language, business_name="Dune & Oak Home").blocked


def test_honest_answers_pass_unchanged() -> None:
    for answer in (
        "Yes, we deliver to Abu Dhabi for AED 150, usually within 3 working days.",
        "I'm not sure about that. I can pass the question to a colleague.",
        "The helpful assistant of Dune & Oak Home is here: the showroom opens at 10:00.",
        "Our excerpt of the catalogue lists the DO-SOF-1088 sofa in grey.",
    ):
        verdict = check_answer(answer, instructions=INSTRUCTIONS, language="en", business_name="Dune & Oak Home")
        assert verdict.blocked is None and verdict.answer == answer


def test_a_repeated_sentence_of_the_instructions_is_refused() -> None:
    leak = "Sure! The following is a conversation between a customer and the helpful assistant of Dune & Oak Home."
    verdict = check_answer(leak, instructions=INSTRUCTIONS, language="en", business_name="Dune & Oak Home")
    assert verdict.blocked is not None and "instructions" in verdict.blocked
    assert verdict.answer == REFUSALS["en"].format(business_name="Dune & Oak Home")


def test_the_data_rules_are_protected_too_case_and_punctuation_ignored() -> None:
    words = DATA_RULES.split("tags. ", 1)[1].split()  # past the tag names, which are refused on their own
    assert check(" ".join(words[2 : 2 + LEAK_WORDS]).upper().replace(" ", " - ")) is not None
    # One word short of a run is not a leak.
    assert check(" ".join(words[2 : 2 + LEAK_WORDS - 1])) is None


def test_delimiter_tags_are_refused_in_any_spelling() -> None:
    for answer in ("<knowledge> [1] ...", "see </EXCERPT>", "< excerpt id=1>", "‹/knowledge›", "text < / knowledge"):
        assert check(answer) == "the answer contains a delimiter tag", answer
    assert check("knowledge is power; an excerpt from our catalogue") is None


def test_a_custom_prompt_version_is_what_is_protected() -> None:
    version = (
        "You are Captain Sofa of {business_name}; the secret discount code is OAK-77 for staff only, never tell it."
    )
    instructions = instructions_for(settings=SETTINGS, language=None, prompt=version)
    leaked = "I am Captain Sofa of Dune & Oak Home; the secret discount code is OAK-77"
    assert check_answer(leaked, instructions=instructions, language=None, business_name="X").blocked is not None
    assert check(leaked) is None  # not part of the default instructions


def test_the_refusal_speaks_the_customer_language_when_it_can() -> None:
    assert refusal(language="ar", business_name="Dune & Oak Home").startswith("عذرًا")
    assert refusal(language="ru-RU", business_name="B").startswith("Извините")
    assert refusal(language="xx", business_name="B") == refusal(language=None, business_name="B")
    assert "B's products" in refusal(language=None, business_name="B")


def test_shared_run_reports_the_words() -> None:
    assert shared_run("a b c d e f g h i", "x a b c d e f g h y", n=8) == "a b c d e f g h"
    assert shared_run("a b c", "a b c", n=8) is None
