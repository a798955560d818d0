"""The prompt template syntax: bare allowed placeholders and doubled braces, substituted without str.format."""

from __future__ import annotations

import pytest

from parley_contract.templates import PLACEHOLDERS, TemplateError, placeholders_in, plain, render

VALUES = {"business_name": "Dune & Oak", "language_hint": " (language code ar)"}


@pytest.mark.parametrize(
    ("template", "found"),
    [
        ("No placeholders at all.", set()),
        ("Hi {business_name}{language_hint}", {"business_name", "language_hint"}),
        ("Literal {{braces}} and }} and {{", set()),
        ("{{{business_name}}}", {"business_name"}),
        ('JSON example: {{"a": 1}}', set()),
    ],
)
def test_plain_templates_name_their_placeholders(template: str, found: set[str]) -> None:
    assert placeholders_in(template) == found


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Hi {business_name:>200000000}", "no format spec"),
        ("{business_name.__class__.__mro__}", "unsupported placeholder '{business_name.__class__.__mro__}'"),
        ("{business_name!r}", "unsupported placeholder"),
        ("{business_name[0]}", "unsupported placeholder"),
        ("{customer_name}", "only the bare placeholders {business_name}, {language_hint}"),
        ("{}", "unsupported placeholder '{}'"),
        ("{ business_name }", "unsupported placeholder"),
        ("Hi {business_name", "unmatched '{'"),
        ("odd } brace", "unmatched '}'"),
        ("{{business_name}", "unmatched '}'"),
    ],
)
def test_anything_else_in_braces_is_refused_with_a_clear_message(template: str, message: str) -> None:
    with pytest.raises(TemplateError) as refused:
        placeholders_in(template)
    assert message in str(refused.value)


def test_a_long_expression_is_shortened_in_the_message() -> None:
    with pytest.raises(TemplateError) as refused:
        placeholders_in("{business_name:" + "x" * 10_000 + "}")
    assert len(str(refused.value)) < 400


def test_render_fills_placeholders_and_undoubles_braces_as_str_format_did() -> None:
    template = "Hi {business_name}{language_hint}: {{literal}} {{{business_name}}}"
    assert render(template, VALUES) == template.format(**VALUES)
    assert render(template, VALUES) == "Hi Dune & Oak (language code ar): {literal} {Dune & Oak}"


def test_render_evaluates_nothing_a_template_stored_before_the_check_may_hold() -> None:
    stored = "A{business_name:>200000000}B {business_name.__class__.__mro__} {business_name!r} {x} { } }{ {{ok}}"
    rendered = render(stored, VALUES)
    assert (
        rendered == "A{business_name:>200000000}B {business_name.__class__.__mro__} {business_name!r} {x} { } }{ {ok}"
    )
    assert "class" not in rendered.replace("__class__", "")


def test_values_are_inserted_once_never_read_as_templates() -> None:
    assert render("{business_name}", {"business_name": "{language_hint} {{x}}"}) == "{language_hint} {{x}}"


def test_only_allowed_placeholders_are_filled() -> None:
    assert "secret" not in PLACEHOLDERS
    assert render("{secret} {business_name}", {"secret": "s3cr3t", "business_name": "Dune"}) == "{secret} Dune"
    assert render("{language_hint}", {}) == "{language_hint}"


@pytest.mark.parametrize(
    "stored",
    [
        "Hi {business_name:>200000000} {business_name.__class__.__mro__} {x} {} {{ok}} {business_name}",
        "lone { and } and }{ and {{{language_hint}}}",
        "already plain {business_name}{language_hint} {{x}}",
    ],
)
def test_plain_makes_a_stored_template_valid_and_renders_as_it_did(stored: str) -> None:
    fixed = plain(stored)
    placeholders_in(fixed)  # raises if anything is left to refuse
    assert render(fixed, VALUES) == render(stored, VALUES)
    assert plain(fixed) == fixed
