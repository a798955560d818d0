"""FAQ documents → question/answer pairs (pure: no I/O beyond the bytes given).

A Markdown heading or a bold line that reads as a question, followed by its answer paragraph(s)
(sample_kb/faq.md is the model), or a CSV with a question and an answer column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import PurePath

#: Longest question and answer kept: a "question" longer than this is prose, not a FAQ entry.
MAX_QUESTION_CHARS = 300
MAX_ANSWER_CHARS = 4000


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Words a question starts with although it may lack its "?" (en, ar, ru).
_INTERROGATIVES = _word_set(
    """
    what which who whom whose when where why how is are am was were do does did can could may might
    should shall will would have has had
    ما ماذا من متى أين اين لماذا كيف كم هل أي اي
    что кто когда где почему зачем как какой какая какое какие сколько ли можно есть чем куда откуда
    """
)

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.+?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)(?P<text>[^*_].*?)(?:\*\*|__)\s*:?\s*$")
#: CSV header names of the two columns (compared case-folded, stripped).
_QUESTION_HEADERS = frozenset({"question", "q", "questions", "سؤال", "السؤال", "вопрос", "вопросы"})
_ANSWER_HEADERS = frozenset({"answer", "a", "answers", "جواب", "الجواب", "إجابة", "الإجابة", "ответ", "ответы"})


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str


def is_question(text: str) -> bool:
    """Ends with a question mark (Latin or Arabic) or starts with an interrogative word."""
    text = text.strip()
    if not text or len(text) > MAX_QUESTION_CHARS:
        return False
    if text.endswith(("?", "؟")):
        return True
    first = re.split(r"[\s,،:]+", text.casefold(), maxsplit=1)[0]
    return first in _INTERROGATIVES


def _question_line(line: str) -> str | None:
    """The text of a heading or bold line, or None for an ordinary line."""
    match = _HEADING.match(line) or _BOLD_LINE.match(line)
    return match.group("text").strip() if match else None


def _clean_answer(lines: list[str]) -> str:
    text = "\n".join(lines).strip()
    # Paragraphs stay apart; runs of blank lines become one.
    return re.sub(r"\n{3,}", "\n\n", text)[:MAX_ANSWER_CHARS].strip()


def pairs_from_markdown(text: str) -> list[QAPair]:
    """Each question heading (or bold line) with the lines up to the next heading or bold line."""
    pairs: list[QAPair] = []
    question: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        heading = _question_line(line)
        if heading is None:
            if question is not None:
                body.append(line)
            continue
        if question is not None and (answer := _clean_answer(body)):
            pairs.append(QAPair(question=question, answer=answer))
        question, body = (heading if is_question(heading) else None), []
    if question is not None and (answer := _clean_answer(body)):
        pairs.append(QAPair(question=question, answer=answer))
    return pairs


def _column(header: list[str], names: frozenset[str]) -> int | None:
    for index, name in enumerate(header):
        if name.strip().casefold() in names:
            return index
    return None


def pairs_from_csv(text: str) -> list[QAPair]:
    """Rows of a CSV whose header names a question and an answer column; [] for any other CSV."""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        return []
    q_col, a_col = _column(rows[0], _QUESTION_HEADERS), _column(rows[0], _ANSWER_HEADERS)
    if q_col is None or a_col is None:
        return []
    pairs = []
    for row in rows[1:]:
        if len(row) <= max(q_col, a_col):
            continue
        question, answer = row[q_col].strip(), row[a_col].strip()
        if question and answer and len(question) <= MAX_QUESTION_CHARS:
            pairs.append(QAPair(question=question, answer=answer[:MAX_ANSWER_CHARS]))
    return pairs


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def extract_pairs(*, name: str, data: bytes) -> list[QAPair]:
    """The document's FAQ pairs by its extension (.md/.markdown/.txt, .csv); [] for other formats."""
    suffix = PurePath(name).suffix.lower()
    if suffix in (".md", ".markdown", ".txt"):
        return pairs_from_markdown(_decode(data))
    if suffix == ".csv":
        return pairs_from_csv(_decode(data))
    return []
