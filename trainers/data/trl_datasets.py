"""Text-only examples in TRL's dataset formats (examples with media go through
:mod:`eval_anything.trainers.data.processor_collators` instead).

Rows become TRL's conversational form when the tokenizer has a chat template (``data.chat``), so
training sees the same chat formatting the ``hf`` adapter uses when the checkpoint is scored.
"""

from __future__ import annotations

from typing import Any

from eval_anything.trainers.data.examples import Completion, Pair


def _user(text: str, system: str | None = None) -> list[dict[str, str]]:
    head = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": text}]


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _plain_prompt(text: str, system: str | None) -> str:
    """The prompt of a tokenizer without a chat template: the system prompt, if any, first."""
    return f"{system}\n\n{text}" if system else text


def pairs_dataset(pairs: list[Pair], conversational: bool) -> Any:
    """TRL's preference format: ``prompt, chosen, rejected``."""
    import datasets

    rows: list[dict[str, Any]]
    if conversational:
        rows = [{"prompt": _user(p.prompt, p.system), "chosen": _assistant(p.chosen),
                 "rejected": _assistant(p.rejected)} for p in pairs]
    else:
        rows = [{"prompt": _plain_prompt(p.prompt, p.system), "chosen": p.chosen,
                 "rejected": p.rejected} for p in pairs]
    return datasets.Dataset.from_list(rows)


def completions_dataset(items: list[Completion], conversational: bool) -> Any:
    """TRL's prompt-completion format (the loss on the completion only)."""
    import datasets

    rows: list[dict[str, Any]]
    if conversational:
        rows = [{"prompt": _user(c.prompt, c.system), "completion": _assistant(c.completion)}
                for c in items]
    else:
        rows = [{"prompt": _plain_prompt(c.prompt, c.system), "completion": c.completion}
                for c in items]
    return datasets.Dataset.from_list(rows)


def reward_dataset(pairs: list[Pair], conversational: bool) -> Any:
    """TRL's reward format: the prompt folded into chosen and rejected ("implicit prompt")."""
    import datasets

    rows: list[dict[str, Any]]
    if conversational:
        rows = [{"chosen": _user(p.prompt, p.system) + _assistant(p.chosen),
                 "rejected": _user(p.prompt, p.system) + _assistant(p.rejected)} for p in pairs]
    else:
        rows = [{"chosen": f"{_plain_prompt(p.prompt, p.system)}\n{p.chosen}",
                 "rejected": f"{_plain_prompt(p.prompt, p.system)}\n{p.rejected}"} for p in pairs]
    return datasets.Dataset.from_list(rows)


def use_chat(chat: str, tokenizer: Any) -> bool:
    """``data.chat``: 'always', 'never', or 'auto' (when the tokenizer has a chat template)."""
    if chat == "always":
        return True
    if chat == "never":
        return False
    return bool(getattr(tokenizer, "chat_template", None))
