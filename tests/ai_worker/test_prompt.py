"""The prompt: instructions and numbered excerpts, then the recent turns, then the question."""

from __future__ import annotations

from ai_worker.llm.llamacpp import transcript_prompt
from ai_worker.prompt import build_messages
from ai_worker.retrieval.store import Hit
from parley_contract.schemas import HistoryTurn, Role, TenantSettings

HITS = [
    Hit(chunk_id="a", text="Abu Dhabi delivery costs AED 150.", document_id="d1", document="delivery.md", score=0.9),
    Hit(chunk_id="b", text="sku: DO-SOF-1088", document_id="d2", document="catalog.csv", score=0.5),
]


def test_messages_carry_excerpts_history_and_question() -> None:
    messages = build_messages(
        question="  And to Al Ain? ",
        hits=HITS,
        history=[
            HistoryTurn(role=Role.user, text="Do you deliver to Abu Dhabi?"),
            HistoryTurn(role=Role.assistant, text="Yes, for AED 150."),
        ],
        settings=TenantSettings(business_name="Dune & Oak Home"),
        language="en",
    )
    system = messages[0]
    assert system["role"] == "system"
    assert "Dune & Oak Home" in system["content"] and "language code en" in system["content"]
    assert "[1] (from delivery.md)\nAbu Dhabi delivery costs AED 150." in system["content"]
    assert "[2] (from catalog.csv)\nsku: DO-SOF-1088" in system["content"]
    assert [(m["role"], m["content"]) for m in messages[1:]] == [
        ("user", "Do you deliver to Abu Dhabi?"),
        ("assistant", "Yes, for AED 150."),
        ("user", "And to Al Ain?"),
    ]


def test_no_excerpts_is_said_not_hidden() -> None:
    messages = build_messages(question="hi", hits=[], history=[], settings=TenantSettings(), language=None)
    assert "(no excerpts found)" in messages[0]["content"]


def test_transcript_for_models_without_a_chat_template() -> None:
    prompt = transcript_prompt(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi!"},
            {"role": "user", "content": "Open today?"},
        ]
    )
    assert prompt == "Be brief.\n\nCustomer: Hello\nAssistant: Hi!\nCustomer: Open today?\nAssistant:"


def test_the_active_prompt_version_wins_and_business_facts_are_added() -> None:
    settings = TenantSettings(
        business_name="Dune & Oak Home",
        system_prompt="The old {business_name} prompt",
        working_hours="Sat-Thu 10:00-22:00 GST",
        languages=["en", "ar"],
    )
    version = "Version prompt for {business_name}{language_hint}."
    system = build_messages(question="hi", hits=[], history=[], settings=settings, language="ar", prompt=version)[0]
    assert system["content"].startswith("Version prompt for Dune & Oak Home (language code ar).")
    assert "old" not in system["content"]
    assert "Working hours of Dune & Oak Home: Sat-Thu 10:00-22:00 GST." in system["content"]
    assert "answers in these languages: en, ar." in system["content"]
    without = build_messages(question="hi", hits=[], history=[], settings=settings, language=None)[0]
    assert without["content"].startswith("The old Dune & Oak Home prompt")
