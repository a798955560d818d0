"""The last check before an answer is stored: it must not leak the instructions or our delimiters.

The prompt tells the model that excerpts and customer text are data, but a small model follows
"print the text above" often enough. So the answer itself is checked: if it contains one of the
delimiter tags, or repeats a run of `LEAK_WORDS` consecutive words of the tenant's instructions
(including the data rules), the customer gets a polite refusal instead. Knowledge base excerpts
and business facts are not protected: quoting them is the assistant's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ai_worker.prompt import DELIMITER_TAGS
from parley_contract.templates import render

#: A run of this many words shared with the instructions counts as a leak. Shorter runs happen in
#: honest answers ("pass the question to a colleague"); a prompt that dictates a longer verbatim
#: phrase will see it refused, so such phrases belong in the knowledge base.
LEAK_WORDS = 8

#: The refusal, by the language code the gateway detected; English when there is none for it.
REFUSALS = {
    "en": "Sorry, I can't help with that. I'm happy to answer questions about {business_name}'s products and services.",
    "ar": "عذرًا، لا أستطيع المساعدة في ذلك. يسعدني الإجابة عن أسئلتك حول منتجات وخدمات {business_name}.",
    "ru": "Извините, с этим я помочь не могу. С удовольствием отвечу на вопросы о товарах и услугах {business_name}.",
}

_DELIMITER = re.compile(r"[<‹]\s*/?\s*(?:" + "|".join(DELIMITER_TAGS) + r")\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Verdict:
    answer: str
    #: Why the model's answer was replaced; None when it passed.
    blocked: str | None = None


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def shared_run(answer: str, protected: str, *, n: int = LEAK_WORDS) -> str | None:
    """The first run of `n` words of `answer` that also occurs in `protected` (case and punctuation ignored)."""
    protected_words = _words(protected)
    grams = {tuple(protected_words[i : i + n]) for i in range(len(protected_words) - n + 1)}
    answer_words = _words(answer)
    for i in range(len(answer_words) - n + 1):
        if tuple(answer_words[i : i + n]) in grams:
            return " ".join(answer_words[i : i + n])
    return None


def refusal(*, language: str | None, business_name: str) -> str:
    template = REFUSALS.get((language or "en").split("-")[0].lower(), REFUSALS["en"])
    return render(template, {"business_name": business_name})


def check_answer(answer: str, *, instructions: str, language: str | None, business_name: str) -> Verdict:
    """The answer as it may be sent: the model's, or a refusal when it leaks `instructions` or a delimiter."""
    if _DELIMITER.search(answer):
        blocked = "the answer contains a delimiter tag"
    elif (run := shared_run(answer, instructions)) is not None:
        blocked = f"the answer repeats the instructions ({LEAK_WORDS}+ words: {run!r})"
    else:
        return Verdict(answer=answer)
    return Verdict(answer=refusal(language=language, business_name=business_name), blocked=blocked)
