"""Wire types of curated answers (issue #16), shared by the gateway and the worker."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

MAX_QUESTION_CHARS = 1000
MAX_ANSWER_CHARS = 4000
#: Most pairs one document may hold; a bigger "FAQ" is not curated, its text is still searched.
MAX_PAIRS_PER_DOCUMENT = 2000


class CuratedPair(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)


class DocumentCuratedPairs(BaseModel):
    """The pairs the worker extracted from a document: they replace the document's earlier ones."""

    pairs: list[CuratedPair] = Field(default_factory=list, max_length=MAX_PAIRS_PER_DOCUMENT)


class CuratedAnswerOut(BaseModel):
    id: str
    tenant_id: str
    question: str
    answer: str
    #: The document id the pair was extracted from, or "staff".
    source: str
    updated_by: str | None = None
    #: The task whose answer this one corrects, when made with "correct this answer".
    task_id: str | None = None
    created_at: datetime
    updated_at: datetime
