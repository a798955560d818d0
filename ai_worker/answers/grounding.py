"""The grounding check: does a generated answer say only what the texts it was given say?

A small model over excerpts invents prices, durations, phone numbers and products, repeats the
question, or carries on writing the chat transcript. None of that can be allowed to reach a
customer, so every fact-like token of the answer must be found in the sources (excerpts, rows)
or the question, after normalising how numbers are written (Arabic-Indic digits, thousands
separators). Pure: no model, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Rule = Literal["empty", "transcript", "echo", "phone", "email", "url", "identifier", "number", "product", "yes_no"]


#: Arabic-Indic and Persian digits, Arabic thousands and decimal separators → ASCII.
def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٬٫",
    "01234567890123456789,.",
)

_SPEAKER = (
    r"customer|client|user|human|assistant|agent|bot|ai|operator|q|a|question|answer|"
    r"клиент|покупатель|пользователь|ассистент|оператор|бот|вопрос|ответ|в|о|"
    r"العميل|الزبون|المستخدم|المساعد|الموظف|سؤال|جواب|السؤال|الجواب|س|ج"
)
_TRANSCRIPT = re.compile(rf"^\s*[*_#>-]*\s*(?:{_SPEAKER})\s*[*_]*\s*[:：]", re.IGNORECASE | re.MULTILINE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>()\[\]\"']+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:[a-z]{2,6})/[^\s<>()]*"
    r"|\b[a-z0-9-]+\.(?:com|net|org|ae|ru|io|co|info|biz|me|app|shop|store)\b",
    re.IGNORECASE,
)
#: Seven digits or more with spaces, dashes, dots or brackets between them: a phone number.
_PHONE = re.compile(r"(?<![\w.,])\+?\(?\d[\d\s().-]{5,}\d(?![\w])")
#: Codes: a token mixing letters and digits, hyphenated parts allowed (SKUs, order numbers).
#: Codes: a token opening with a letter, holding a digit, in hyphenated parts (DO-ARM-2048) or one
#: word (A1234). "10-year" or "14th" are numbers, checked as such.
_IDENTIFIER = re.compile(r"\b[^\W\d_](?=[\w-]*\d)\w*(?:[-_/]\w+)+\b|\b[^\W\d_](?=\w*\d)\w{3,}\b")
#: "2 500": a thousands group after a space (narrow or not) is part of the number.
_SPACED_THOUSANDS = re.compile(r"(?<![\d,.])(\d{1,3})[ \u00a0\u202f](?=\d{3}(?![\d,.]))")
_NUMBER = re.compile(r"\d+(?:[,.]\d+)*")
#: "1." or "2)" opening a line: list numbering, not a fact.
_LIST_MARKER = re.compile(r"^\s*\d{1,2}[.)]\s", re.MULTILINE)
_NAME = re.compile(r"\b[A-Z][\w'&-]*(?:\s+(?:&\s+)?[A-Z][\w'&-]*)+")
_WORD = re.compile(r"[^\W_]+")

#: Capitalised words that start sentences or greet: not part of a product's name.
_NOT_NAME = _vocabulary(
    "the a an our your you we yes no it its this that these those thank thanks hello hi dear please sorry "
    "unfortunately however also and or for with from in on at to of by as if is are can will may i "
    "all any each every some there here what which when where how why who"
)
_YES_NO = re.compile(
    r"^\s*(yes|no|yeah|yep|nope|sure|of course|نعم|لا|أجل|كلا|да|нет|конечно)\b[\s,.!:;—-]*", re.IGNORECASE
)
_STOP = _vocabulary(
    "a an the is are was were be been it its this that i you we they he she me my your our us to of in on at for "
    "with and or but do does did can could will would should may might have has had not no yes so as by from "
    "if then than there here it's i'm you're we're "
    "и в во на с со к по за из у о об от до не да нет это я вы мы вас нас мне ли а но "
    "و في من على إلى الى عن مع هل نعم لا أن ان هذا هذه ما"
)
#: Words that add nothing to a yes or a no.
_FILLER = _vocabulary("course sure certainly absolutely definitely indeed конечно разумеется безусловно طبعا بالتأكيد")
#: Share of an answer's words that, all taken from the question, make it an echo.
ECHO_OVERLAP = 0.8
#: A bare yes/no is at most this many words beyond the yes/no.
BARE_WORDS = 8


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rule: Rule | None = None
    #: The offending token or line (for logs under LOG_CONTENT and for tests).
    detail: str = ""


PASSED = Verdict(ok=True)


def normalise_digits(text: str) -> str:
    return text.translate(_DIGITS)


def _canonical_number(token: str) -> str:
    # "2,500" and "2500" are one amount; "2.50" keeps its decimals; "14.00" is 14.
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", token):
        token = token.replace(",", "")
    token = token.replace(",", ".") if re.fullmatch(r"\d+,\d{1,2}", token) else token
    if "." in token and re.fullmatch(r"\d+\.\d+", token):
        token = token.rstrip("0").rstrip(".")
    return token.lstrip("0") or "0"


def _number_text(text: str) -> str:
    return _SPACED_THOUSANDS.sub(r"\1,", normalise_digits(text))


def plain_numbers(text: str) -> str:
    """`text` with every number written canonically ("AED ٢٬٥٠٠" → "AED 2500")."""
    return _NUMBER.sub(lambda m: _canonical_number(m.group(0)), _number_text(text))


def numbers(text: str) -> set[str]:
    """Every number of `text`, canonical (digits normalised, no thousands separators)."""
    found: set[str] = set()
    for token in _NUMBER.findall(_number_text(text)):
        found.add(_canonical_number(token))
        # "10:00", "220x95x84" and "1.5" also count by their parts when sources write them apart.
        found.update(_canonical_number(part) for part in re.split(r"[,.]", token) if part)
    return found


def _answer_numbers(text: str) -> set[str]:
    return {_canonical_number(t) for t in _NUMBER.findall(_number_text(_LIST_MARKER.sub(" ", text)))}


def _digits_only(text: str) -> str:
    return re.sub(r"\D", "", normalise_digits(text))


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(normalise_digits(text))]


def transcript_line(answer: str) -> str | None:
    """A line that speaks as a turn of a chat transcript ("customer: …", "Q: …", "ответ: …")."""
    found = _TRANSCRIPT.search(answer)
    return found.group(0).strip() if found else None


def is_echo(answer: str, question: str) -> bool:
    """The answer mostly repeats the question's words and adds next to nothing of its own."""
    said = [w for w in _words(answer) if w not in {"yes", "no", "نعم", "да"}]
    asked = set(_words(question))
    if len(said) < 2 or not asked:
        return bool(said) and said == _words(question)
    return sum(w in asked for w in said) / len(said) >= ECHO_OVERLAP


def _unsupported_yes_no(answer: str, question: str) -> bool:
    # Conservative: only a short yes/no whose remaining words all come from the question fails;
    # "Yes, within 14 days of delivery" brings the excerpts' words and is left to the other rules.
    opened = _YES_NO.match(answer)
    if opened is None:
        return False
    rest = [w for w in _words(answer[opened.end() :]) if w not in _STOP and w not in _FILLER]
    if len(rest) > BARE_WORDS:
        return False
    asked = set(_words(question))
    return all(w in asked for w in rest)


def _missing_contacts(answer: str, haystack: str) -> Verdict | None:
    lowered = haystack.lower()
    for email in _EMAIL.findall(answer):
        if email.lower().rstrip(".") not in lowered:
            return Verdict(ok=False, rule="email", detail=email)
    for url in _URL.findall(_EMAIL.sub(" ", answer)):
        bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower()).rstrip("/.,;:!?")
        if bare not in lowered:
            return Verdict(ok=False, rule="url", detail=url)
    phones = {_digits_only(p) for p in _PHONE.findall(haystack)}
    digits = _digits_only(haystack)
    for phone in _PHONE.findall(normalise_digits(answer)):
        dialled = _digits_only(phone)
        if len(dialled) >= 7 and dialled not in phones and dialled not in digits:
            return Verdict(ok=False, rule="phone", detail=phone.strip())
    return None


def _missing_facts(answer: str, haystack: str) -> Verdict | None:
    lowered = normalise_digits(haystack).lower()
    text = _URL.sub(" ", _EMAIL.sub(" ", normalise_digits(answer)))
    for code in _IDENTIFIER.findall(text):
        if code.lower() not in lowered:
            return Verdict(ok=False, rule="identifier", detail=code)
    known = numbers(haystack)
    without_phones = _PHONE.sub(lambda m: " " if len(_digits_only(m.group(0))) >= 7 else m.group(0), text)
    for number in sorted(_answer_numbers(without_phones)):
        if number not in known:
            return Verdict(ok=False, rule="number", detail=number)
    vocabulary = set(_words(haystack))
    for name in _NAME.findall(text):
        unknown = [w for w in _words(name) if len(w) > 2 and w not in _NOT_NAME and w not in vocabulary]
        if unknown:
            return Verdict(ok=False, rule="product", detail=name)
    return None


def check_grounding(*, answer: str, question: str, sources: Sequence[str], known: Iterable[str] = ()) -> Verdict:
    """Whether `answer` keeps to `sources` and `question`; the first rule it breaks otherwise.

    `known` are texts the answer may also quote that are not excerpts (the business's name)."""
    if not answer.strip():
        return Verdict(ok=False, rule="empty")
    line = transcript_line(answer)
    if line is not None:
        return Verdict(ok=False, rule="transcript", detail=line)
    if is_echo(answer, question):
        return Verdict(ok=False, rule="echo")
    haystack = "\n".join([question, *sources, *known])
    missing = _missing_contacts(answer, haystack) or _missing_facts(answer, haystack)
    if missing is not None:
        return missing
    if _unsupported_yes_no(answer, question):
        return Verdict(ok=False, rule="yes_no")
    return PASSED
