"""The types every way of answering shares: the question as the pipeline sees it, and an answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ai_worker.retrieval.store import Hit
from parley_contract.schemas import AnswerPath, HistoryTurn, Source, TenantSettings

#: Languages Parley ships texts (templates, lead-ins, the fallback) in; others get English.
SHIPPED_LANGUAGES = ("en", "ar", "ru")


@dataclass(frozen=True)
class Question:
    tenant_id: str
    text: str
    #: The customer's language (ISO 639-1: "en", "ar", "ru", …) detected from the message or, when
    #: the message is too short to tell, the contact's stored language.
    language: str
    settings: TenantSettings
    history: tuple[HistoryTurn, ...] = ()
    #: For a question the embedder cannot read, its terms with their English words
    #: (`retrieval.bridge.english_terms`); empty otherwise.
    bridge: tuple[str, ...] = ()
    #: Words of such a question the bridge has no English for (`retrieval.bridge.unglossed_words`):
    #: still asked about, so an excerpt that says none of them does not answer the question.
    unbridged: tuple[str, ...] = ()

    @property
    def search_text(self) -> str:
        """What the knowledge base is searched by: the question, and its bridge if any."""
        return "\n".join([self.text, *self.bridge])

    @property
    def dense_text(self) -> str:
        """What the embedder reads: the bridge's words when there is one, else the question."""
        return " ".join(self.bridge) if self.bridge else self.text


@dataclass
class Answer:
    text: str
    path: AnswerPath
    sources: list[Source] = field(default_factory=list)
    #: The honest fallback: the business's data did not hold the answer and a person should reply.
    needs_person: bool = False
    #: The excerpts the answer was made from (for the grounding check and the sources shown).
    hits: list[Hit] = field(default_factory=list)


class Responder(Protocol):
    """One way of answering. `respond` returns None when this way cannot answer the question,
    so the pipeline asks the next one; it never guesses."""

    path: AnswerPath

    def respond(self, question: Question) -> Answer | None: ...
