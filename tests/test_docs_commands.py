"""Every ```bash and ```python block of README.md and docs/*.md runs as written, or says why it
cannot here.

A bash block runs with ``bash -euo pipefail`` (a Python block with the venv's ``python``) in a
fresh copy of the checkout (the tracked files as
they are in the working tree, as a clone would have them, plus a link to the repository's
``.venv``, whose ``bin`` is first on PATH), offline (``HF_HUB_OFFLINE``), with its own store and
response cache in the test's temporary folder, so nothing it writes lands in the checkout or the
user's cache. Exit 0 passes.

A block that cannot run here starts with a marker line that the reader sees beside the command::

    # needs: network - pip downloads the dependencies

``needs`` names one or more of :data:`NEEDS` and the text after the dash says why; the block is
then skipped with that reason. Blocks that take minutes (``make demo``, training, the mini
suite) are slow-marked (:data:`SLOW`); a block longer than about three minutes is marked
``# needs: long`` instead, with its measured time from docs/benchmarks.md.

A block that names a placeholder the reader must replace (``DIR``, ``RUN_DIR``, ``NAME``,
``LABELS``, ``URL``, ...: :data:`PLACEHOLDER`) in its code, not only in a comment, cannot run as
written: it must carry a marker (``# needs: model - DIR: ...``). This is checked without running
anything, so it holds for blocks that would only fail at their last line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NEEDS = {
    "gpu": "a CUDA GPU",
    "network": "the network (downloads)",
    "postgres-url": "a PostgreSQL server of your own",
    "long": "more than about three minutes",
    "model": "a model or run folder of your own (placeholders such as DIR, RUN_DIR)",
    "server": "runs until stopped (serves a page or polls)",
}
# a model loads or trains (`train ALGORITHM` trains; `train --list-configs` only reads YAML)
ALGORITHMS = ("sft", "rm", "dpo", "llf", "critic")
SLOW = ("make demo", "eval-anything demo", *(f"eval-anything train {a}" for a in ALGORITHMS),
        "eval-anything watch", "eval-anything run ", "eval-anything-mini", "benchmarks/")
PY_SLOW = ("evaluate(", "train(")
FENCE = re.compile(r"^```(bash|python)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
#: Words the docs use for what a reader fills in: ``DIR``, ``JUDGE_DIR``, ``RUN_DIR``, ``NAME``,
#: ``LABELS``, ``FILE``, ``WHEELS``, and ``URL`` standing alone (``BASE_URL`` is a literal a
#: server prints; ``$URL`` a variable the block sets).
PLACEHOLDER = re.compile(
    r"(?<![\w$])(?:(?:[A-Z][A-Z0-9]*_)*(?:DIR|NAME|FILE|LABELS|WHEELS)|URL)(?![\w=])"
)
MARKER = re.compile(r"^#\s*needs:\s*([a-z, -]+?)\s+[-\u2014]\s+(\S.*)$")
TIMEOUT_S = 900


@dataclass(frozen=True)
class Block:
    """One ```bash block: where it is, its text, and its ``# needs:`` marker if any."""

    where: str
    text: str
    needs: tuple[str, ...]
    reason: str
    language: str = "bash"

    @property
    def slow(self) -> bool:
        return any(s in self.text for s in SLOW) or (
            self.language == "python" and any(s in self.text for s in PY_SLOW))

    def code(self) -> str:
        """The block without its comments (a ``#`` at a line's start or after a space)."""
        return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in self.text.splitlines())

    def command(self) -> list[str]:
        if self.language == "python":
            return ["python", "-c", self.text]
        return ["bash", "-euo", "pipefail", "-c", self.text]


def _blocks() -> list[Block]:
    out = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            language, body = m.group(1), m.group(2)
            first = body.splitlines()[0].strip() if body.strip() else ""
            marker = MARKER.match(first)
            needs: tuple[str, ...] = ()
            reason = ""
            if first.startswith("#") and "needs:" in first:
                assert marker, f"{path.name}:{line}: write the marker as '# needs: KIND - why'"
                needs = tuple(n.strip() for n in marker.group(1).split(",") if n.strip())
                reason = marker.group(2)
            out.append(Block(f"{path.relative_to(ROOT)}:{line}", body, needs, reason, language))
    return out


BLOCKS = _blocks()


def test_every_marker_names_a_known_need_and_says_why() -> None:
    assert BLOCKS, "no ```bash or ```python blocks found in README.md and docs/*.md"
    for block in BLOCKS:
        unknown = [n for n in block.needs if n not in NEEDS]
        assert not unknown, f"{block.where}: unknown need {unknown}; known: {sorted(NEEDS)}"
        if block.needs:
            assert len(block.reason) > 10, f"{block.where}: say why next to '# needs:'"


def test_a_block_naming_a_placeholder_carries_a_marker() -> None:
    unmarked = [f"{b.where}: {sorted(set(PLACEHOLDER.findall(b.code())))}" for b in BLOCKS
                if not b.needs and PLACEHOLDER.search(b.code())]
    assert not unmarked, (
        "these blocks name placeholders a reader must fill in, so they cannot run as written; "
        "start each with '# needs: model - DIR: ...' (saying what each placeholder is) or "
        "make it run: " + "; ".join(unmarked))


def test_the_placeholder_check_tells_placeholders_from_literals() -> None:
    def found(code: str) -> list[str]:
        return PLACEHOLDER.findall(Block("x", code, (), "").code())

    assert found('ea.evaluate("hf", ["t"], model_args={"pretrained": "DIR"})') == ["DIR"]
    assert found("eval-anything agreement RUN_DIR --labels LABELS.jsonl") == ["RUN_DIR", "LABELS"]
    assert found("eval-anything push runs/base --store URL") == ["URL"]
    assert found("eval-anything push runs/base   # --store URL") == []  # a comment
    assert found("URL=$(sed -n 's/^BASE_URL //p' f); curl $URL; export HF_HUB_OFFLINE=1") == []


def _fresh_copy(dest: Path) -> Path:
    """The tracked files as a clone would hold them (working-tree contents), and the venv."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVAL_ANYTHING_")}
    env.update({
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "VIRTUAL_ENV": str(ROOT / ".venv"),
        "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
        "EVAL_ANYTHING_STORE": str(tmp / "store.sqlite"),
        "EVAL_ANYTHING_CACHE_DIR": str(tmp / "cache"),
    })
    return env


def _params() -> list[object]:
    return [pytest.param(b, id=b.where, marks=[pytest.mark.slow] if b.slow else [])
            for b in BLOCKS]


@pytest.mark.parametrize("block", _params())
def test_docs_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    if block.needs:
        pytest.skip(f"{block.where} needs {', '.join(block.needs)}: {block.reason}")
    checkout = _fresh_copy(tmp_path / "checkout")
    out = subprocess.run(block.command(), cwd=checkout,
                         env=_env(tmp_path), capture_output=True, text=True, timeout=TIMEOUT_S)
    assert out.returncode == 0, (
        f"{block.where} exited {out.returncode}:\n{block.text}\n--- stdout\n{out.stdout[-3000:]}"
        f"\n--- stderr\n{out.stderr[-3000:]}"
    )
