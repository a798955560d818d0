"""Issue #15, finding 11: answers keep only http(s), mailto and tel links.

An answer contained `[Claim refund](javascript:alert(2))`: a partner page or widget rendering the answer's
Markdown would have run it. The worker now stores such a link as its text only, and the Telegram and
WhatsApp formatters never emit a link with another scheme, whatever reaches them.
"""

from __future__ import annotations

import re
import uuid

import pytest

from ai_worker.links import strip_unsafe_links
from parley_testkit.fake_llm import FakeLLM, Rule
from parley_testkit.stack import Stack
from parley_testkit.telegram_emulator import parse_html
from telegram_bot.formatting import html_to_plain, to_telegram_html
from tests.gateway.admin_support import ask, new_tenant
from whatsapp_adapter.formatting import to_whatsapp

#: Written by a model that was led on, each with the text the customer should see instead.
ATTACKS = [
    ("[Claim refund](javascript:alert(2))", "Claim refund"),
    ("Go [here](JaVaScRiPt:alert(1)) now", "Go here now"),
    ("[x]( javascript:alert(1) 'title')", "x"),
    ("[x](<java\tscript:alert(1)>)", "x"),
    ("[x](&#106;avascript:alert(1))", "x"),
    ("[x](javascript&colon;alert(1))", "x"),
    ("[x](javascript\\:alert(1))", "x"),
    ("[x](\x01javascript:alert(1))", "x"),
    ("[page](data:text/html;base64,PHNjcmlwdD4=)", "page"),
    ("[old](vbscript:msgbox(1))", "old"),
    ("[file](FILE:///etc/passwd)", "file"),
    ("![pic](javascript:alert(1))", "pic"),
    ("[[nested](javascript:1)](javascript:2)", "nested"),
    ("[x](javascript:a((((1)))))", "x"),
    ("[x](/relative/path)", "x"),
    ("Refunds: [claim][r]\n\n[r]: javascript:alert(1)", "Refunds: [claim][r]\n\n"),
    ("> [r]: <vbscript:x> 'Title'", ""),
    ("<javascript:alert(1)>", "javascript:alert(1)"),
    ('<a href="javascript:alert(1)">Claim</a>', "Claim"),
    ('<a href="JavaScript:alert(1)">Claim</a>', "Claim"),
    ('<a href="vbscript:msgbox(1)">Old</a>', "Old"),
    ('<a href="file:///etc/passwd">File</a>', "File"),
    ('Look: <img src="javascript:alert(1)" alt="pic">', "Look: "),
    ("<A HREF='java&#x09;script:alert(1)'>Claim</A>", "Claim"),
    ("<a href=data:text/html,x>Claim</a>", "Claim"),
    ("<img src=x onerror=alert(1)>Hi", "Hi"),
    ("<img/src=javascript:alert(1)>Hi", "Hi"),
    ('<a href="https://ok.example" onclick="alert(1)">Hi</a>', "Hi"),
]
SAFE = [
    "See [our policy](https://dune.example/returns_(2024)) or <https://dune.example>.",
    "Write to [us](mailto:help@dune.example) or call [us](tel:+97140000000).",
    '<a href="https://dune.example">Shop</a> and [site](HTTPS://DUNE.EXAMPLE "Dune")',
    "Prices [in AED] (incl. VAT) and [a] list.\n\n1. [Step one]: open the app",
    "[ref]: https://dune.example\n\nSee [the shop][ref].",
]
#: A target a formatter wrote out after a label, `label (javascript:…)`; Markdown a formatter did not
#: parse stays as literal text (`[x](javascript:…)`), which no chat client makes a link of.
SHOWN_UNSAFE_TARGET = re.compile(r"(?<!\])\(\s*(?:javascript|vbscript|data|file):", re.IGNORECASE)


@pytest.mark.parametrize(("answer", "shown"), ATTACKS)
def test_a_link_to_anything_but_the_web_mail_or_phone_keeps_only_its_text(answer: str, shown: str) -> None:
    assert strip_unsafe_links(answer) == shown


@pytest.mark.parametrize("answer", SAFE)
def test_web_mail_and_phone_links_and_plain_brackets_are_left_alone(answer: str) -> None:
    assert strip_unsafe_links(answer) == answer


def test_what_markdown_renderers_read_differently_still_loses_the_link() -> None:
    for answer in ("[x] (javascript:alert(1))", "[x](javascript:" + "(" * 20 + "1" + ")" * 21):
        cleaned = strip_unsafe_links(answer)
        assert not re.search(r"\]\s*\(\s*javascript", cleaned), cleaned


def test_removing_one_link_cannot_assemble_another() -> None:
    for answer in ("<jav[](javascript:1)ascript:alert(1)>", "<<img src=javascript:1>a href=javascript:2>x</a>"):
        cleaned = strip_unsafe_links(answer)
        assert "<a" not in cleaned and not cleaned.startswith("<javascript"), cleaned


def test_hostile_input_is_handled_in_linear_time() -> None:
    # Quadratic scanning would take minutes on these (an answer is at most a few thousand tokens).
    for answer in ("](" * 20000, "[a](" * 10000, "](j:)" * 8000, "<a href=x>" * 4000, "](x" + "(" * 20000):
        assert "](j:" not in strip_unsafe_links(answer)


@pytest.mark.parametrize("answer", [answer for answer, _ in ATTACKS])
def test_telegram_never_links_an_unsafe_target(answer: str) -> None:
    # Straight from a model, not cleaned by the worker first (a reply may come from elsewhere).
    for tag in re.findall(r"<a\b[^>]*>", to_telegram_html(answer), flags=re.IGNORECASE):
        assert re.fullmatch(r'<a href="https?://[^"]+">', tag), (answer, tag)
    plain = html_to_plain(to_telegram_html(answer))
    assert not SHOWN_UNSAFE_TARGET.search(plain), plain


def test_telegram_shows_the_label_of_an_unsafe_link_and_keeps_web_mail_and_phone() -> None:
    assert parse_html(to_telegram_html("[Claim refund](javascript:alert(2))")) == "Claim refund"
    assert html_to_plain(to_telegram_html("[Claim refund](javascript:alert(2))")) == "Claim refund"
    shown = to_telegram_html("[Shop](https://dune.example/a_(b)) [mail](mailto:help@dune.example) [call](tel:+9714)")
    assert shown == '<a href="https://dune.example/a_(b)">Shop</a> mail (help@dune.example) call (+9714)'
    assert html_to_plain(to_telegram_html("[Shop](https://dune.example)")) == "Shop (https://dune.example)"


@pytest.mark.parametrize("answer", [answer for answer, _ in ATTACKS])
def test_whatsapp_never_shows_an_unsafe_target(answer: str) -> None:
    shown = to_whatsapp(answer)
    assert not SHOWN_UNSAFE_TARGET.search(re.sub(r"[\t\n\r]", "", shown)), shown


def test_whatsapp_shows_the_label_and_keeps_web_mail_and_phone() -> None:
    assert to_whatsapp("[Claim refund](javascript:alert(2))") == "Claim refund"
    assert to_whatsapp('<a href="JavaScript:alert(1)">Claim</a> <img src="data:x" alt="pic">') == "Claim pic"
    assert to_whatsapp("[Shop](https://dune.example) [mail](mailto:help@dune.example)") == (
        "Shop (https://dune.example) mail (mailto:help@dune.example)"
    )


def test_a_javascript_link_in_an_answer_is_stored_and_delivered_as_text(
    partner_stack: Stack, partner_llm: FakeLLM
) -> None:
    marker = uuid.uuid4().hex
    answer = "[Claim refund](javascript:alert(2)) or see [our policy](https://dune.example/returns)."
    partner_llm.add(Rule(when=marker, answer=answer))
    tenant = new_tenant(partner_stack)
    task = ask(tenant, f"how do I get a refund? {marker}")
    assert task["status"] == "done", task
    expected = "Claim refund or see [our policy](https://dune.example/returns)."
    assert task["answer"] == expected
    assert partner_stack.reply_event(task["task_id"])["answer"] == expected  # what the adapters deliver
    assert to_telegram_html(expected) == 'Claim refund or see <a href="https://dune.example/returns">our policy</a>.'
    assert to_whatsapp(expected) == "Claim refund or see our policy (https://dune.example/returns)."
