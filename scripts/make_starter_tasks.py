"""Writes the starter tasks' data deterministically: ``python scripts/make_starter_tasks.py``.

- ``tasks/starter/starter_mc.jsonl``: 300 four-way arithmetic multiple-choice items.
- ``tasks/starter/starter_gen.jsonl``: 100 short arithmetic questions answered by generation.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tasks" / "starter"


def mc_items(n: int, rng: random.Random) -> list[dict]:
    items = []
    for i in range(n):
        a, b = rng.randint(1, 50), rng.randint(1, 50)
        op = rng.choice(["+", "-"])
        answer = a + b if op == "+" else a - b
        wrong: set[int] = set()
        while len(wrong) < 3:
            w = answer + rng.choice([-10, -3, -2, -1, 1, 2, 3, 10])
            if w != answer:
                wrong.add(w)
        choices = [str(answer), *map(str, sorted(wrong))]
        rng.shuffle(choices)
        items.append(
            {
                "id": f"mc-{i:04d}",
                "question": f"What is {a} {op} {b}?",
                "choices": choices,
                "answer": choices.index(str(answer)),
                "operation": "addition" if op == "+" else "subtraction",
            }
        )
    return items


def gen_items(n: int, rng: random.Random) -> list[dict]:
    items = []
    for i in range(n):
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        items.append(
            {"id": f"gen-{i:04d}", "question": f"What is {a} + {b}?", "answer": str(a + b)}
        )
    return items


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write_jsonl(OUT / "starter_mc.jsonl", mc_items(300, random.Random(1234)))
    write_jsonl(OUT / "starter_gen.jsonl", gen_items(100, random.Random(5678)))
    print(f"wrote {OUT}/starter_mc.jsonl and starter_gen.jsonl")


if __name__ == "__main__":
    main()
