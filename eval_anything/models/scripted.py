"""Replays fixed outputs: deterministic tests of everything downstream of the model.

The script is a JSON object or a JSONL file of ``{"input": TEXT, "output": TEXT}`` rows; a request
is matched by the text of its last user turn (exactly, then by the longest ``input`` it contains).
``default`` answers anything unmatched; without it an unmatched request is an error output.
With neither a script nor a default the model is refused: it would have no answer to replay, and
a multiple-choice task would still "score" it (every choice equally likely, the first one
taken). ``name`` is the label runs and the leaderboard show.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from eval_anything.core.content import TextPart, text_of
from eval_anything.core.outputs import LoglikelihoodOutput, ModelOutput
from eval_anything.core.requests import GenerateRequest, LoglikelihoodRequest
from eval_anything.models.base import ModelAdapter
from eval_anything.registry import register


def load_script(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        return {str(r["input"]): str(r["output"]) for r in rows}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object mapping input text to output text")
    return {str(k): str(v) for k, v in data.items()}


@register("model", "scripted")
class ScriptedModel(ModelAdapter):
    input_modalities = ("text", "image", "audio", "video")
    supports_loglikelihood = True

    def __init__(
        self,
        script: str | None = None,
        default: str | None = None,
        outputs: dict[str, str] | None = None,
        name: str = "scripted",
        delay: float = 0.0,
        calls_log: str | None = None,
    ) -> None:
        if not script and default is None and not outputs:
            raise ValueError(
                "the scripted model needs model arg 'script' (a JSON object or JSONL file of "
                "{\"input\": ..., \"output\": ...} rows) or 'default' (the answer to anything "
                "unmatched): without either it has no answer to replay; give one, e.g. "
                "--model-args script=answers.jsonl or --model-args default=TEXT"
            )
        self.script_path = script
        self.table: dict[str, str] = dict(outputs or {})
        if script:
            path = Path(script)
            if not path.exists():
                raise FileNotFoundError(f"--model-args script={script}: file not found")
            self.table.update(load_script(path))
        self.default = default
        self._name = name
        self.calls = 0
        self.delay = delay
        self.calls_log = Path(calls_log) if calls_log else None

    def identity(self) -> dict[str, Any]:
        digest = hashlib.sha256(
            json.dumps([self.table, self.default], sort_keys=True).encode()
        ).hexdigest()
        return {"adapter": "scripted", "name": self._name, "script_sha256": digest}

    def _lookup(self, text: str) -> str | None:
        if text in self.table:
            return self.table[text]
        hits = [k for k in self.table if k and k in text]
        if hits:
            return self.table[max(hits, key=len)]
        return self.default

    def _record(self, texts: list[str]) -> None:
        """Count calls (and append them to ``calls_log``) so tests can prove what was recomputed."""
        self.calls += len(texts)
        if self.calls_log is not None:
            with self.calls_log.open("a", encoding="utf-8") as f:
                f.write("".join(json.dumps(t) + "\n" for t in texts))
        if self.delay:
            time.sleep(self.delay * len(texts))

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        self._record([text_of(r.messages[-1].content) for r in requests])
        outs = []
        for r in requests:
            text = text_of(r.messages[-1].content)
            got = self._lookup(text)
            if got is None:
                outs.append(ModelOutput(error=f"scripted model has no output for {text[:60]!r}"))
            else:
                outs.append(ModelOutput(parts=[TextPart(text=got)], consumed_modalities=["text"]))
        return outs

    def loglikelihood(self, requests: list[LoglikelihoodRequest]) -> list[LoglikelihoodOutput]:
        """The scripted answer's choice gets log-prob 0, every other choice -10."""
        self._record([text_of(r.context[-1].content) for r in requests])
        outs = []
        for r in requests:
            want = (self._lookup(text_of(r.context[-1].content)) or "").strip()
            lps = [0.0 if c.strip() == want else -10.0 for c in r.continuations]
            outs.append(LoglikelihoodOutput(logprobs=lps, greedy=[lp == 0.0 for lp in lps]))
        return outs
