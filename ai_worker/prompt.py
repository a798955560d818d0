"""Building the chat prompt: instructions with numbered excerpts, recent history, the question."""

from __future__ import annotations

from ai_worker.llm.base import ChatMessage
from ai_worker.retrieval.store import Hit
from parley_contract.schemas import HistoryTurn, Role, TenantSettings

DEFAULT_SYSTEM_PROMPT = (
    "The following is a conversation between a customer and the helpful assistant of {business_name}. "
    "The assistant answers briefly and specifically (prices, fees, times), using only the numbered "
    "knowledge base excerpts below. If the excerpts do not contain the answer, the assistant says it is "
    "not sure and offers to pass the question to a colleague. It never invents facts and replies in the "
    "customer's language{language_hint}."
)

#: Excerpts beyond this many characters in total are dropped (least relevant first).
MAX_EXCERPT_CHARS = 6000


def format_excerpts(hits: list[Hit], *, max_chars: int = MAX_EXCERPT_CHARS) -> str:
    blocks: list[str] = []
    used = 0
    for number, hit in enumerate(hits, start=1):
        block = f"[{number}] (from {hit.document})\n{hit.text.strip()}"
        if used + len(block) > max_chars and blocks:
            break
        blocks.append(block)
        used += len(block)
    return "\n\n".join(blocks) if blocks else "(no excerpts found)"


def business_facts(settings: TenantSettings) -> str:
    """Lines about the business the model may need: when someone is there, which languages it serves."""
    lines = []
    if settings.working_hours:
        lines.append(f"Working hours of {settings.business_name}: {settings.working_hours}.")
    if settings.languages:
        lines.append(f"{settings.business_name} answers in these languages: {', '.join(settings.languages)}.")
    return "\n".join(lines)


def build_messages(
    *,
    question: str,
    hits: list[Hit],
    history: list[HistoryTurn],
    settings: TenantSettings,
    language: str | None,
    prompt: str | None = None,
) -> list[ChatMessage]:
    """`prompt` is the tenant's active prompt version; without one, its system_prompt setting or the default."""
    template = prompt or settings.system_prompt or DEFAULT_SYSTEM_PROMPT
    instructions = template.format(
        business_name=settings.business_name,
        language_hint=f" (language code {language})" if language else "",
    )
    facts = business_facts(settings)
    if facts:
        instructions = f"{instructions}\n\n{facts}"
    system = f"{instructions}\n\nKnowledge base excerpts:\n{format_excerpts(hits)}"
    messages: list[ChatMessage] = [{"role": "system", "content": system}]
    for turn in history:
        messages.append({"role": "user" if turn.role == Role.user else "assistant", "content": turn.text})
    messages.append({"role": "user", "content": question.strip()})
    return messages
