"""The curated path: a stored answer to a stored question the customer's question matches."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ai_worker.answers.base import Answer, Question
from ai_worker.curated.ingest import fetch_entries
from ai_worker.curated.match import CuratedEntry, CuratedIndex, Embed, MatchThresholds
from ai_worker.curated.sentences import relevant_sentences
from ai_worker.knowledge_cache import KnowledgeCache
from ai_worker.settings import WorkerSettings
from parley_contract.schemas import AnswerPath, Source

if TYPE_CHECKING:
    from ai_worker.runtime import Runtime

log = logging.getLogger(__name__)


class CuratedCache(KnowledgeCache[CuratedIndex]):
    """Each tenant's curated answers, fetched from the gateway and indexed once per knowledge version
    (the gateway bumps it too when staff change a curated answer)."""

    def __init__(
        self, *, fetch: Callable[[str], list[CuratedEntry]], version_of: Callable[[str], int], embed: Embed
    ) -> None:
        super().__init__(build=lambda tenant_id: CuratedIndex(fetch(tenant_id), embed), version_of=version_of)

    def index(self, tenant_id: str) -> CuratedIndex:
        return self.get(tenant_id)


class CuratedResponder:
    """Answers with a curated answer (its most relevant sentences when long), or None."""

    path: AnswerPath = "curated"

    def __init__(self, *, cache: CuratedCache, embed: Embed, thresholds: MatchThresholds | None = None) -> None:
        self._cache = cache
        self._embed = embed
        self._thresholds = thresholds or MatchThresholds()

    def respond(self, question: Question) -> Answer | None:
        index = self._cache.index(question.tenant_id)
        match = index.best(question.text, language=question.language, thresholds=self._thresholds)
        if match is None:
            return None
        entry = match.entry
        text = relevant_sentences(question=question.text, answer=entry.answer, embed=self._embed)
        log.info("curated answer %s matched (cosine %.2f, lexical %.0f)", entry.id, match.cosine, match.lexical)
        source = Source(
            document="curated answer" if entry.source == "staff" else "FAQ",
            document_id=None if entry.source == "staff" else entry.source,
            chunk_id=f"curated:{entry.id}",
            score=round(max(match.cosine, match.lexical / 100), 4),
            excerpt=f"{entry.question}\n{entry.answer}"[:400],
        )
        return Answer(text=text, path=self.path, sources=[source])


def thresholds_from(settings: WorkerSettings) -> MatchThresholds:
    return MatchThresholds(
        close=settings.curated_min_cosine,
        strong=settings.curated_strong_cosine,
        other_language_ratio=settings.curated_other_language_ratio,
    )


def curated_responder(rt: Runtime) -> CuratedResponder:
    """The curated path of a loaded worker: the tenant's answers read over the internal API, cached
    until the tenant's knowledge version changes, matched with the worker's embedder."""
    embed = rt.store.embedder.embed
    cache = CuratedCache(
        fetch=lambda tenant_id: fetch_entries(rt.gateway, tenant_id),
        version_of=rt.knowledge_version,
        embed=embed,
    )
    return CuratedResponder(cache=cache, embed=embed, thresholds=thresholds_from(rt.settings))
