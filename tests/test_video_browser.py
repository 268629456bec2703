"""A generated MP4 plays in the leaderboard's sample browser, in a real headless Chromium.

The procedural generator renders the mini suite's first video instruction as an H.264 MP4, the
run is pushed to a SQLite store, and the served app's sample browser shows it with ``st.video``.
The page is driven over the DevTools protocol (the helpers of tests/browser_support.py): the
test waits for the ``<video>`` element, plays it, checks the browser decoded it (its size and
duration, and time advancing), and keeps a screenshot as
``tests/artifacts/leaderboard-video.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (  # noqa: F401  (browser is a fixture used by name)
    DevTools,
    browser,
    screenshot,
    serve,
    wait_until,
)

from eval_anything import evaluate
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.store import open_store, push

VIDEO = "document.querySelector('video')"


@pytest.fixture
def served_video_run(tmp_path: Path) -> Iterator[tuple[str, str]]:
    run_dir = tmp_path / "run"
    evaluate("procedural", "mini_amg_if_video", model_args="modality=video", limit=1,
             output_dir=run_dir, cache_path=None, progress=False)
    (record,) = read_sample_records(run_dir, "mini_amg_if_video")[:1]
    assert record.output[-1].path.endswith(".mp4")
    url = f"sqlite:///{tmp_path / 'leaderboard.sqlite'}"
    with open_store(url) as store:
        run_id = push(run_dir, store=store)
    assert run_id == read_results(run_dir).run_id
    with serve(url, tmp_path) as app:
        yield app, run_id


@pytest.mark.slow
def test_sample_browser_plays_a_generated_mp4(
    served_video_run: tuple[str, str], browser: DevTools  # noqa: F811
) -> None:
    app, run_id = served_video_run
    browser.call("Page.enable")
    browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                 deviceScaleFactor=1, mobile=False)
    browser.call("Page.navigate",
                 url=f"{app}?view=Sample+browser&run={run_id}&task=mini_amg_if_video")
    wait_until(lambda: browser.evaluate(f"!!{VIDEO}"), 90, "the video element")
    src = browser.evaluate(f"{VIDEO}.currentSrc || {VIDEO}.src")
    assert "/media/" in src
    # metadata decoded by the browser: the clip's own size and length (8 frames at 4 fps)
    wait_until(lambda: browser.evaluate(f"{VIDEO}.readyState >= 1"), 60, "video metadata")
    size = browser.evaluate(f"[{VIDEO}.videoWidth, {VIDEO}.videoHeight, {VIDEO}.duration]")
    assert size[:2] == [96, 96] and abs(size[2] - 2.0) < 0.1
    browser.evaluate(f"{VIDEO}.muted = true; {VIDEO}.play(); true")
    wait_until(lambda: browser.evaluate(f"{VIDEO}.currentTime > 0.2"), 60, "playback to advance")
    assert browser.evaluate(f"{VIDEO}.error") is None
    browser.evaluate(f"{VIDEO}.pause(); {VIDEO}.currentTime = 1.0; {VIDEO}.scrollIntoView(); true")
    wait_until(lambda: browser.evaluate(f"{VIDEO}.readyState >= 2"), 30, "a frame to show")
    screenshot(browser, "leaderboard-video.png")
