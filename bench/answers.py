"""Answer correctness on labelled customer questions: `python -m bench.answers [--quick] [--kb K] [--limit N]`.

Two knowledge bases: the bundled furniture shop (sample_kb/, questions in data/answers/dune_oak.jsonl)
and a dental clinic written for this benchmark (data/answers/clinic_kb/, clinic.jsonl). Each question
goes through the real stack (the tests' `running_stack`: gateway, one worker with the bundled Gemma
model, the knowledge base uploaded through the API into a tenant of its own), once with the worker's
ANSWER_PIPELINE=legacy and once with ANSWER_PIPELINE=grounded, in the same run; the two columns are
printed side by side. A worker that does not know the setting answers the same way both times.

Scoring (`score`) is plain text matching, so a label mistake shows up in tests/bench/test_answers.py
(every fact an answerable question must contain is found in the knowledge base files).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

import httpx
from rapidfuzz import fuzz

from bench.common import DOCS, SAMPLE_KB, Section, median, percentile, redis_url, workdir

DATA = Path(__file__).resolve().parent / "data" / "answers"
CLINIC_KB = DATA / "clinic_kb"
KNOWLEDGE_BASES: dict[str, tuple[Path, Path]] = {
    "dune_oak": (SAMPLE_KB, DATA / "dune_oak.jsonl"),
    "clinic": (CLINIC_KB, DATA / "clinic.jsonl"),
}
PIPELINES = ("legacy", "grounded")
LANGUAGES = ("en", "ar", "ru")
KINDS = (
    "catalog_price",
    "catalog_stock",
    "catalog_attribute",
    "catalog_sku",
    "catalog_misspelt",
    "catalog_compare",
    "catalog_filter",
    "policy",
    "unanswerable_unknown_product",
    "unanswerable_order_status",
    "unanswerable_offtopic",
    "unanswerable_personal",
)
KB_SUFFIXES = (".md", ".csv", ".pdf", ".txt")


@dataclass(frozen=True)
class LabelledQuestion:
    id: str
    question: str
    language: str
    kind: str
    #: Each inner list is one fact: any one of its spellings must appear in the answer.
    must_contain: tuple[tuple[str, ...], ...]
    must_not_contain: tuple[str, ...]
    answerable: bool

    @property
    def group(self) -> str:
        """The kind group a report row is per: catalog, policy or unanswerable."""
        return self.kind.split("_", 1)[0]


def load_questions(path: Path) -> list[LabelledQuestion]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        questions.append(
            LabelledQuestion(
                id=raw["id"],
                question=raw["question"],
                language=raw["language"],
                kind=raw["kind"],
                must_contain=tuple(tuple(group) for group in raw["must_contain"]),
                must_not_contain=tuple(raw["must_not_contain"]),
                answerable=bool(raw["answerable"]),
            )
        )
    return questions


# --- text normalisation -------------------------------------------------------------------------

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# A separator between digit groups of three: "5,400", "5 400" (also no-break spaces), "٥٬٤٠٠".
_THOUSANDS = re.compile(r"(?<=\d)[,\u066c\u00a0\u202f ](?=\d{3}(?!\d))")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def normalise(text: str) -> str:
    """Lower case, NFKC, ASCII digits, no thousands separators, the Arabic decimal comma as a point."""
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS).replace("\u066b", ".")
    return _THOUSANDS.sub("", text).lower()


def contains(text: str, phrase: str) -> bool:
    """`phrase` in `text` after normalising both; a number must not be part of a longer number."""
    needle = normalise(phrase).strip()
    if not needle:
        return False
    before = r"(?<!\d)" if needle[0].isdigit() else ""
    after = r"(?!\d)" if needle[-1].isdigit() else ""
    return re.search(before + re.escape(needle) + after, normalise(text)) is not None


def numbers(text: str) -> set[str]:
    """The numbers in `text`, normalised ("007" → "7", "5,400" → "5400")."""
    return {_canonical_number(match) for match in _NUMBER.findall(normalise(text))}


def _canonical_number(raw: str) -> str:
    whole, _, fraction = raw.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def kb_text(directory: Path) -> str:
    """Every knowledge-base file's text (PDFs through pypdf), as one string."""
    parts: list[str] = []
    for path in sorted(directory.iterdir()):
        if path.suffix == ".pdf":
            from pypdf import PdfReader

            parts.extend(page.extract_text() or "" for page in PdfReader(path).pages)
        elif path.suffix == ".csv":
            # Cells apart, so that the comma between "4850" and "220x95x84" is not read as a
            # thousands separator.
            with path.open(encoding="utf-8", newline="") as handle:
                parts.extend(" | ".join(row) for row in csv.reader(handle))
        elif path.suffix in KB_SUFFIXES:
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


# --- what an answer is --------------------------------------------------------------------------

_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")
_TRANSCRIPT = re.compile(
    r"(?:^|\n|\s)(?:customer|assistant|user|bot|client|agent|question|клиент|ассистент|пользователь|покупатель"
    r"|вопрос|العميل|المساعد|الزبون|المستخدم|سؤال)\s*:",
    re.IGNORECASE,
)
ABSTENTIONS = (
    # en
    "don't have",
    "do not have",
    "don't know",
    "do not know",
    "not sure",
    "no information",
    "couldn't find",
    "could not find",
    "can't find",
    "cannot find",
    "unable to",
    "passed your question",
    "passed it on",
    "passed on",
    "a colleague",
    "someone from our team",
    "we don't sell",
    "we do not sell",
    "we don't offer",
    "we do not offer",
    "don't carry",
    "not in our catalog",
    "no product",
    "isn't something",
    "can't help",
    "cannot help",
    "can't check",
    "cannot check",
    "can't share",
    "cannot share",
    # ar
    "لا أملك",
    "ليس لدي",
    "ليست لدي",
    "لا تتوفر لدي",
    "لا أعرف",
    "لا نملك",
    "لا نبيع",
    "لا نقدم",
    "لم أجد",
    "لا يمكنني",
    "زميل",
    "أحلت",
    "تم تحويل",
    "تمت إحالة",
    "لا توجد معلومات",
    "ليس لدينا",
    # ru
    "нет информации",
    "нет сведений",
    "не знаю",
    "не располагаю",
    "передал",
    "передала",
    "передали",
    "коллег",
    "не могу ответить",
    "не могу проверить",
    "не могу сообщ",
    "не продаём",
    "не продаем",
    "нет такого",
    "нет такой",
    "не нашёл",
    "не нашел",
    "не нашла",
    "у нас нет",
    # the catalog's "not in our catalog" (ai_worker/catalog/templates.py "unknown")
    "нет в нашем каталоге",
    "غير موجود في كتالوجنا",
)


def in_language(answer: str, language: str) -> bool:
    """Script check: Arabic letters for ar, Cyrillic for ru (a lead-in in the language is enough),
    mostly Latin letters for anything else."""
    if language == "ar":
        return len(_ARABIC.findall(answer)) >= 2
    if language == "ru":
        return len(_CYRILLIC.findall(answer)) >= 2
    latin = len(_LATIN.findall(answer))
    return latin > 0 and latin >= len(_ARABIC.findall(answer)) + len(_CYRILLIC.findall(answer))


def is_echo(*, question: str, answer: str) -> bool:
    """The answer repeats the question (whole, nearly, or as most of what it says)."""
    q, a = normalise(question).strip(), normalise(answer).strip()
    if not a:
        return False
    if fuzz.ratio(q, a) >= 85:
        return True
    if len(a) >= 10 and a in q:
        return True
    # The question repeated and something added ("كم تكلفة التوصيل…؟ Answer: …").
    return q in a and (a.startswith(q) or len(q) >= 0.4 * len(a))


def is_transcript(answer: str) -> bool:
    """The answer continues a chat transcript ("customer: …", "assistant: …")."""
    return _TRANSCRIPT.search(answer) is not None


def abstains(answer: str) -> bool:
    text = normalise(answer)
    return any(normalise(phrase) in text for phrase in ABSTENTIONS)


@dataclass(frozen=True)
class Score:
    correct: bool
    facts: bool
    forbidden: list[str]
    invented: list[str]
    abstained: bool
    in_language: bool
    echo: bool
    transcript: bool


def score(
    q: LabelledQuestion,
    answer: str | None,
    *,
    kb_numbers: set[str],
    needs_person: bool | None = None,
    path: str | None = None,
) -> Score:
    """How one answer did. `kb_numbers` are `numbers(kb_text(...))` of its knowledge base."""
    text = answer or ""
    facts = bool(text) and all(any(contains(text, alt) for alt in group) for group in q.must_contain)
    forbidden = [phrase for phrase in q.must_not_contain if contains(text, phrase)]
    invented = sorted(numbers(text) - kb_numbers - numbers(q.question))
    abstained = bool(text) and (abstains(text) or bool(needs_person) or path == "fallback")
    echo = is_echo(question=q.question, answer=text)
    transcript = is_transcript(text)
    clean = bool(text) and not forbidden and not echo and not transcript
    correct = clean and (facts if q.answerable else abstained)
    return Score(
        correct=correct,
        facts=facts,
        forbidden=forbidden,
        invented=invented,
        abstained=abstained,
        in_language=bool(text) and in_language(text, q.language),
        echo=echo,
        transcript=transcript,
    )


# --- which questions ----------------------------------------------------------------------------


def select_slice(questions: Sequence[LabelledQuestion], n: int) -> list[LabelledQuestion]:
    """`n` questions, round robin over the kinds and, within a kind, over its languages (each kind
    starting at another language), in file order: a small slice still has every kind (and so every
    answer path) and Arabic and Russian questions. Deterministic."""
    by_kind: dict[str, list[LabelledQuestion]] = {}
    for q in questions:
        by_kind.setdefault(q.kind, []).append(q)
    kinds = sorted(by_kind, key=lambda kind: KINDS.index(kind) if kind in KINDS else len(KINDS))
    queues = [_interleave_languages(by_kind[kind], shift=i) for i, kind in enumerate(kinds)]
    chosen: list[LabelledQuestion] = []
    depth = 0
    while len(chosen) < min(n, len(questions)):
        for queue in queues:
            if depth < len(queue) and len(chosen) < n:
                chosen.append(queue[depth])
        depth += 1
    return chosen


def _interleave_languages(questions: list[LabelledQuestion], *, shift: int) -> list[LabelledQuestion]:
    languages = sorted(
        {q.language for q in questions}, key=lambda lang: LANGUAGES.index(lang) if lang in LANGUAGES else 9
    )
    languages = languages[shift % len(languages) :] + languages[: shift % len(languages)]
    lists = [[q for q in questions if q.language == lang] for lang in languages]
    return [q for row in zip_longest(*lists) for q in row if q is not None]


# --- running questions through the stack --------------------------------------------------------


@dataclass
class Result:
    kb: str
    pipeline: str
    question: LabelledQuestion
    answer: str | None
    seconds: float
    path: str | None
    score: Score


@dataclass
class Tenant:
    id: str
    admin: httpx.Client
    partner: httpx.Client


def new_kb_tenant(stack: Any, kb_dir: Path) -> Tenant:
    """A tenant of its own (temperature 0, so both pipelines see the same sampling) with the
    knowledge base uploaded through the API and ingested."""
    created = stack.new_tenant(settings={"temperature": 0.0})
    admin = stack.client_with_key(stack.new_key(created["id"], "admin"))
    partner = stack.client_with_key(stack.new_key(created["id"], "messages:write", "tasks:read"))
    for path in sorted(kb_dir.iterdir()):
        if path.suffix not in KB_SUFFIXES:
            continue
        response = admin.post("/api/v1/knowledge/documents", files={"file": (path.name, path.read_bytes())})
        assert response.status_code == 202, response.text
        _wait_document(admin, response.json()["document_id"])
    return Tenant(id=created["id"], admin=admin, partner=partner)


def _wait_document(client: httpx.Client, document_id: str, *, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/knowledge/documents/{document_id}").json().get("status")
        if status == "ready":
            return
        if status == "failed":
            raise RuntimeError(f"document {document_id} failed to ingest")
        time.sleep(1)
    raise TimeoutError(f"document {document_id} not ingested in {timeout:.0f} s")


def ask(tenant: Tenant, text: str, *, wait: float = 600) -> tuple[dict[str, Any], float]:
    """Post one message in a new chat and long-poll its task; the task and the seconds it took."""
    started = time.perf_counter()
    accepted = tenant.partner.post(
        "/api/v1/messages",
        json={"channel": "web", "chat_id": uuid.uuid4().hex[:12], "user": {"id": "bench"}, "text": text},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert accepted.status_code == 202, accepted.text
    deadline = time.monotonic() + wait
    while True:
        task: dict[str, Any] = tenant.partner.get(
            f"/api/v1/tasks/{accepted.json()['task_id']}", params={"wait": 30}
        ).json()
        if task["status"] in ("done", "failed") or time.monotonic() > deadline:
            return task, time.perf_counter() - started


def run_questions(
    tenant: Tenant,
    questions: Iterable[LabelledQuestion],
    *,
    kb: str,
    pipeline: str,
    kb_numbers: set[str],
    progress: Callable[[Result], None] = lambda result: None,
) -> list[Result]:
    results = []
    for q in questions:
        task, seconds = ask(tenant, q.question)
        answer = task.get("answer") if task["status"] == "done" else None
        path = (task.get("timings") or {}).get("answer_path")
        s = score(q, answer, kb_numbers=kb_numbers, needs_person=task.get("needs_person"), path=path)
        result = Result(kb=kb, pipeline=pipeline, question=q, answer=answer, seconds=seconds, path=path, score=s)
        progress(result)
        results.append(result)
    return results


def run_benchmark(
    selections: dict[str, list[LabelledQuestion]],
    *,
    pipelines: Sequence[str] = PIPELINES,
    verbose: bool = True,
    redis: str | None = None,
    generation: str = "auto",
) -> list[Result]:
    """Every selected question of every knowledge base through each pipeline, on one stack
    (`redis`: its database, flushed; `generation`: the worker's ANSWER_GENERATION)."""
    from parley_testkit.stack import running_stack

    results: list[Result] = []
    with (
        workdir("answers") as directory,
        running_stack(
            name="bench-answers",
            workdir=directory,
            redis_url=redis or redis_url(),
            worker_env={"ANSWER_PIPELINE": pipelines[0], "ANSWER_GENERATION": generation},
        ) as stack,
    ):
        tenants = {kb: new_kb_tenant(stack, KNOWLEDGE_BASES[kb][0]) for kb in selections}
        kb_numbers = {kb: numbers(kb_text(KNOWLEDGE_BASES[kb][0])) for kb in selections}
        for index, pipeline in enumerate(pipelines):
            if index:
                _restart_worker(stack, pipeline)
            for kb, questions in selections.items():
                results += run_questions(
                    tenants[kb],
                    questions,
                    kb=kb,
                    pipeline=pipeline,
                    kb_numbers=kb_numbers[kb],
                    progress=_print_result if verbose else lambda result: None,
                )
    return results


def _restart_worker(stack: Any, pipeline: str) -> None:
    stack.worker.stop()
    stack.start_worker(ANSWER_PIPELINE=pipeline)
    stack.wait_ready()


def _print_result(result: Result) -> None:
    s = result.score
    flags = [
        name
        for name, on in (
            ("echo", s.echo),
            ("transcript", s.transcript),
            ("wrong-language", not s.in_language),
            ("invented:" + ",".join(s.invented), bool(s.invented)),
            ("forbidden:" + ",".join(s.forbidden), bool(s.forbidden)),
        )
        if on
    ]
    answer = (result.answer or "<no answer>").replace("\n", " ⏎ ")[:160]
    mark = "OK " if s.correct else "BAD"
    print(
        f"[{result.pipeline}] {mark} {result.question.id} {result.seconds:5.1f}s {result.path or '-'} "
        f"{' '.join(flags)} | {answer}",
        flush=True,
    )


# --- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    n: int
    correct: int
    unanswerable: int
    abstained: int
    invented: int
    in_language: int
    echo_or_transcript: int
    p50: float
    p95: float

    def cells(self) -> list[str]:
        declined = f"{self.abstained}/{self.unanswerable}" if self.unanswerable else "–"
        return [
            f"{self.correct}/{self.n} ({100 * self.correct / self.n:.0f}%)",
            declined,
            str(self.invented),
            f"{self.in_language}/{self.n}",
            str(self.echo_or_transcript),
            f"{self.p50:.1f} / {self.p95:.1f}",
        ]


def figures(results: Sequence[Result]) -> Figures:
    unanswerable = [r for r in results if not r.question.answerable]
    seconds = [r.seconds for r in results]
    return Figures(
        n=len(results),
        correct=sum(r.score.correct for r in results),
        unanswerable=len(unanswerable),
        abstained=sum(r.score.correct for r in unanswerable),
        invented=sum(bool(r.score.invented) for r in results),
        in_language=sum(r.score.in_language for r in results),
        echo_or_transcript=sum(r.score.echo or r.score.transcript for r in results),
        p50=median(seconds),
        p95=percentile(seconds, 95),
    )


METRICS = ("correct", "declined (unanswerable)", "invented number", "in language", "echo/transcript", "p50 / p95 s")


def report_rows(results: Sequence[Result], pipelines: Sequence[str]) -> list[list[str]]:
    """One row per KB × language × kind group, then per KB and overall; each metric once per pipeline."""
    keys: list[tuple[str, str, str]] = []
    for r in results:
        key = (r.kb, r.question.language, r.question.group)
        if key not in keys:
            keys.append(key)
    keys.sort(key=lambda k: (k[0], LANGUAGES.index(k[1]) if k[1] in LANGUAGES else 9, k[2]))
    groups = [((kb, lang, group), _matching(results, kb, lang, group)) for kb, lang, group in keys]
    groups += [((kb, "all", "all"), _matching(results, kb, None, None)) for kb in dict.fromkeys(k[0] for k in keys)]
    groups.append((("all", "all", "all"), list(results)))
    rows = []
    for (kb, lang, group), members in groups:
        per_pipeline = [figures([r for r in members if r.pipeline == p]).cells() for p in pipelines]
        row = [kb, lang, group, str(len(members) // len(pipelines))]
        for metric in range(len(METRICS)):
            row += [cells[metric] for cells in per_pipeline]
        rows.append(row)
    return rows


def _matching(results: Sequence[Result], kb: str, language: str | None, group: str | None) -> list[Result]:
    return [
        r
        for r in results
        if r.kb == kb and language in (None, r.question.language) and group in (None, r.question.group)
    ]


def paths_table(results: Sequence[Result], pipelines: Sequence[str]) -> list[list[str]]:
    seen = sorted({r.path or "(not recorded)" for r in results})
    return [
        [path] + [str(sum((r.path or "(not recorded)") == path for r in results if r.pipeline == p)) for p in pipelines]
        for path in seen
    ]


def make_section(results: Sequence[Result], *, command: str, pipelines: Sequence[str], minutes: float) -> Section:
    section = Section(TITLE, command)
    n = len({(r.kb, r.question.id) for r in results})
    section.add(
        f"{n} labelled customer questions ({', '.join(sorted({r.kb for r in results}))}) through the real stack "
        f"(gateway, one worker, bundled Gemma 3 270M, temperature 0), each in a new chat, once per pipeline "
        f"({' then '.join(f'ANSWER_PIPELINE={p}' for p in pipelines)}) in {minutes:.1f} min. Each metric has a "
        "column per pipeline. Correct: every labelled fact present (digits and thousands separators "
        "normalised), nothing forbidden, no echo of the question and no transcript continuation; for an "
        "unanswerable question, an honest 'I don't know / passed on' instead. Invented number: a number in "
        "the answer that is in neither the knowledge-base files nor the question. In language: Arabic or "
        "Cyrillic letters for ar/ru questions. Time: POST to finished task.",
        "",
    )
    header = ["KB", "lang", "kind", "n"]
    for metric in METRICS:
        header += [f"{metric} {p}" for p in pipelines]
    section.table(header, report_rows(results, pipelines))
    section.add("Which path answered (the task's `timings.answer_path`):", "")
    section.table(["path", *pipelines], paths_table(results, pipelines))
    return section


# --- entry points -------------------------------------------------------------------------------

QUICK_SIZES = {"dune_oak": 40, "clinic": 20}
TITLE = "6. Answers"
_HEADING = re.compile(r"^## (?:\d+\. )?Answers\b.*$", re.MULTILINE)


def replace_section(document: str, section: str) -> str:
    """`document` (docs/BENCHMARKS.md) with its Answers section replaced by `section`, or with
    `section` appended: a run of this benchmark alone updates its part of the report."""
    found = _HEADING.search(document)
    if found is None:
        return document.rstrip("\n") + "\n\n" + section
    following = re.search(r"^## ", document[found.end() :], re.MULTILINE)
    end = found.end() + following.start() if following else len(document)
    return document[: found.start()] + section + ("\n" + document[end:] if following else "")


def selections_for(*, kbs: Sequence[str], quick: bool, limit: int | None) -> dict[str, list[LabelledQuestion]]:
    chosen = {}
    for kb in kbs:
        questions = load_questions(KNOWLEDGE_BASES[kb][1])
        size = limit if limit is not None else (QUICK_SIZES[kb] if quick else len(questions))
        chosen[kb] = select_slice(questions, size)
    return chosen


def run(quick: bool) -> Section:
    """The `make bench` section: both knowledge bases, both pipelines."""
    return run_with(kbs=list(KNOWLEDGE_BASES), quick=quick, limit=None, pipelines=PIPELINES)


def run_with(*, kbs: Sequence[str], quick: bool, limit: int | None, pipelines: Sequence[str]) -> Section:
    started = time.perf_counter()
    results = run_benchmark(selections_for(kbs=kbs, quick=quick, limit=limit), pipelines=pipelines)
    command = "python -m bench.answers" + (" --quick" if quick else "")
    if list(kbs) != list(KNOWLEDGE_BASES):
        command += f" --kb {' '.join(kbs)}"
    if limit is not None:
        command += f" --limit {limit}"
    if tuple(pipelines) != PIPELINES:
        command += f" --pipelines {' '.join(pipelines)}"
    return make_section(results, command=command, pipelines=pipelines, minutes=(time.perf_counter() - started) / 60)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.answers")
    parser.add_argument("--quick", action="store_true", help="a stratified slice (40 shop, 20 clinic questions)")
    parser.add_argument("--kb", nargs="+", choices=list(KNOWLEDGE_BASES), default=list(KNOWLEDGE_BASES))
    parser.add_argument("--limit", type=int, help="at most this many questions per knowledge base (stratified)")
    parser.add_argument("--pipelines", nargs="+", choices=PIPELINES, default=list(PIPELINES))
    parser.add_argument("--output", default=str(DOCS / "BENCHMARKS.md"), help="the report whose section is replaced")
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    args = parser.parse_args()
    section = run_with(kbs=args.kb, quick=args.quick, limit=args.limit, pipelines=args.pipelines)
    print(section.markdown())
    if not args.no_write:
        output = Path(args.output)
        existing = output.read_text(encoding="utf-8") if output.exists() else "# Benchmarks\n"
        output.write_text(replace_section(existing, section.markdown()), encoding="utf-8")
        print(f"wrote its section into {output}")


if __name__ == "__main__":
    main()
