"""Show content parts (inputs, outputs, judgments) safely.

Model outputs and judge text are untrusted: they go through ``st.code``, which shows them
verbatim as text (HTML and markdown are never interpreted), never through ``st.markdown`` or
``st.html``. Media come from the store's content-addressed blobs (so a shared store works on
any machine), else from the file the record points to when this machine has it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from eval_anything.leaderboard import data
from eval_anything.leaderboard.ranking import short_model_name

FRAME_PREVIEW = 8
SHORT_ID = 8  # characters of a run id shown in tables and pickers (the full id on hover)
SHORT_SAMPLE_ID = 16  # characters of a sample id in a title (content hashes run to 64)
_VIDEO_MIME = {".webm": "video/webm", ".mov": "video/quicktime", ".mkv": "video/x-matroska"}
MARKDOWN_SPECIALS = "\\`*_{}[]()<>#+-.!|~"


def md_escape(text: str) -> str:
    """Escape markdown so a name interpolated into a heading is shown as typed."""
    return "".join("\\" + ch if ch in MARKDOWN_SPECIALS else ch for ch in str(text))


def model_label(name: object, step: object = None) -> str:
    """A model as a reader recognizes it: its short name (a path's folder name, never the
    whole path), with the training step when it is a checkpoint."""
    short = short_model_name(name)
    if step is None or pd.isna(step):  # type: ignore[call-overload]
        return short
    return f"{short} @ step {int(step)}"  # type: ignore[call-overload]


def run_choice_label(runs: pd.DataFrame, run_id: str) -> str:
    """``model @ step N · run id (first characters) · date``, for a run picker."""
    row = runs[runs["run_id"] == run_id]
    if row.empty:
        return str(run_id)[:SHORT_ID]
    r = row.iloc[0]
    return f"{model_label(r['model_name'], r['step'])} · {str(run_id)[:SHORT_ID]} · " \
        f"{str(r['created_at'])[:16]}"


def short_sample_id(sample_id: str) -> str:
    """A sample id short enough for a title: content-hash ids are cut to their first
    characters with an ellipsis (the full id is shown inside the item)."""
    text = str(sample_id)
    return text if len(text) <= SHORT_SAMPLE_ID else text[:SHORT_SAMPLE_ID] + "…"


def show_text(text: str) -> None:
    st.code(text, language=None, wrap_lines=True)


def _media(
    part: Any, url: str, run_id: str, run_dir: str | None
) -> tuple[bytes | None, str | None]:
    if part.data is not None:
        return part.data, part.mime
    stored = data.media(url, run_id, part.path)
    if stored is not None:
        return stored
    local = _local_path(part.path, run_dir)
    if local is not None and local.is_file():
        return local.read_bytes(), part.mime
    return None, part.mime


def _local_path(path: str, run_dir: str | None) -> Path | None:
    p = Path(path)
    if not p.is_absolute():
        if run_dir is None:
            return None
        p = Path(run_dir) / p
    return p if p.exists() else None


def show_parts(parts: list[Any], url: str, run_id: str, run_dir: str | None) -> None:
    """Render each part: text as text, images shown, audio playable, video viewable."""
    if not parts:
        st.text("(empty)")
    for part in parts:
        if part.type == "text":
            show_text(part.text)
            continue
        if part.type == "video" and part.path is not None:
            frames_dir = _local_path(part.path, run_dir)
            if frames_dir is not None and frames_dir.is_dir():
                frames = sorted(frames_dir.iterdir())[:FRAME_PREVIEW]
                st.image([str(f) for f in frames], width=120)
                continue
        blob, mime = _media(part, url, run_id, run_dir)
        if blob is None:
            st.text(f"[{part.type} not available here: {part.path}]")
        elif part.type == "image" or (part.type == "video" and (mime or "").endswith("gif")):
            st.image(blob)
        elif part.type == "audio":
            st.audio(blob, format=mime or "audio/wav")
        else:  # MP4 (H.264/VP9), WebM, MOV: the browser plays them
            suffix = Path(part.path or "").suffix.lower()
            st.video(blob, format=mime or _VIDEO_MIME.get(suffix, "video/mp4"))


def show_scores(record: Any) -> None:
    """Each score with its judge, the judge's prompt (when recorded) and raw rationale."""
    for name, score in record.scores.items():
        value = "unscored" if score.value is None else f"{score.value:g}"
        reason = f" ({score.unscored_reason})" if score.unscored_reason else ""
        st.text(f"{name}: {value}{reason}" + (f"  judge: {score.judge}" if score.judge else ""))
        details = dict(score.details)
        prompt = details.pop("judge_prompt", None) or details.pop("prompt", None)
        if prompt:
            st.text("judge prompt:")
            show_text(prompt if isinstance(prompt, str) else json.dumps(prompt, indent=2))
        if score.raw_judgment:
            st.text("judge rationale:")
            show_text(score.raw_judgment)
        if details:
            show_text(json.dumps(details, indent=2, ensure_ascii=False, default=str))
