"""What "validate everything before writing anything" costs at planning time.

For every bundled task: load the samples (the loader, NaN refusal and the media checks:
containment and a decodable header for every image, audio and video), then check the media and
render every prompt once more on their own, so each check's share is visible. Also the cost of
taking and releasing a run folder's lock. Prints a Markdown table (docs/benchmarks.md).

    python benchmarks/validation_cost.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from eval_anything.run.folder_lock import FolderLock
from eval_anything.run.plan import check_prompts
from eval_anything.spec.catalog import load_catalog
from eval_anything.spec.sources import check_media, iter_rows, load_samples, media_roots


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    catalog = load_catalog([])
    print("| task | samples | media files | load + checks (ms) | media checks (ms) | "
          "prompt rendering (ms) |")
    print("|---|---|---|---|---|---|")
    totals = [0, 0, 0.0, 0.0, 0.0]
    for name, spec in sorted(catalog.tasks.items()):
        if spec.source.jsonl is None:
            continue
        samples = load_samples(spec)  # warm the file cache and imports
        load_s = min(timed(lambda s=spec: load_samples(s)) for _ in range(3))
        _, base = iter_rows(spec)
        roots = media_roots(spec, base)
        media = sum(1 for s in samples for p in s.input if getattr(p, "path", None))

        def media_checks(samples=samples, spec=spec, roots=roots) -> None:  # type: ignore[no-untyped-def]
            for i, s in enumerate(samples):
                check_media(spec, s, i, roots)

        media_s = min(timed(media_checks) for _ in range(3))
        render_s = min(timed(lambda sp=spec, ss=samples: check_prompts(sp, ss)) for _ in range(3))
        print(f"| {name} | {len(samples)} | {media} | {load_s * 1e3:.1f} | {media_s * 1e3:.1f} | "
              f"{render_s * 1e3:.1f} |")
        for k, v in enumerate((len(samples), media, load_s, media_s, render_s)):
            totals[k] += v
    print(f"| all | {totals[0]} | {totals[1]} | {totals[2] * 1e3:.1f} | {totals[3] * 1e3:.1f} | "
          f"{totals[4] * 1e3:.1f} |")
    with tempfile.TemporaryDirectory() as tmp:
        n = 200
        t = timed(lambda: [FolderLock(Path(tmp) / "run").acquire().release() for _ in range(n)])
        print(f"\nrun folder lock, acquire + release: {t / n * 1e6:.0f} us")


if __name__ == "__main__":
    main()
