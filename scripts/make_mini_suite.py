"""Make the data of the offline eval-anything mini suite (tasks/mini/eval_anything/data/).

    python scripts/make_mini_suite.py            # (re)write the data files
    python scripts/make_mini_suite.py --check    # exit 1 if the committed files differ

Rows follow the public formats exactly (EvalAnything-AMU, -InstructionFollowing,
-Selection_Synergy); instruction-following rows add ``mini_spec`` (the scene or sound the prompt
describes) for the pixel analyzer. Pictures (PNG), sounds (WAV) and clips (MP4, H.264, as the
public AMU rows carry) are rendered by the procedural generator from the descriptions in
scripts/mini_suite_items.py, so the same command always writes the same bytes. Item tables live
in mini_suite_items.py.

``--check`` compares bytes; an MP4 whose bytes differ still matches when it decodes to the same
frames (within a few levels per pixel), because another PyAV release bundles another H.264
encoder build whose bytes differ for the same pictures.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mini_suite_items as items  # noqa: E402

from eval_anything.analyzers.vocabulary import parse_scene, parse_sound  # noqa: E402
from eval_anything.media.io import audio_to_wav_bytes  # noqa: E402
from eval_anything.media.video import encode_mp4, probe_video, sample_video_frames  # noqa: E402
from eval_anything.models.procedural import (  # noqa: E402
    SAMPLE_RATE,
    VIDEO_FPS,
    render_clip,
    render_scene,
    render_sound,
)

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tasks" / "mini" / "eval_anything" / "data"
LETTERS = "ABCD"


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def choices_text(options: list[str]) -> str:
    return "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))


def amu_rows(out: Path) -> list[dict]:
    media = out / "media" / "amu"
    media.mkdir(parents=True, exist_ok=True)
    rows = []
    for k, (dim, visual, kind, sound, question, refs) in enumerate(items.AMU, 1):
        qid = f"amu-mini-{k:03d}"
        scene = parse_scene(visual)
        if kind == "image":
            vis_name = f"{qid}.png"
            render_scene(scene).save(media / vis_name, format="PNG", optimize=False)
        else:
            vis_name = f"{qid}.mp4"
            (media / vis_name).write_bytes(encode_mp4(render_clip(scene), VIDEO_FPS))
        aud_name = f"{qid}.wav"
        (media / aud_name).write_bytes(audio_to_wav_bytes(render_sound(parse_sound(sound)),
                                                          SAMPLE_RATE))
        rows.append({
            "question_id": qid,
            "question": question,
            "visual_modality_path": f"media/amu/{vis_name}",
            "auditory_modality_path": f"media/amu/{aud_name}",
            "evaluation_dimension": dim,
            "annotations": [
                {"answer": ans, "keywords": {"visual": vis, "auditory": aud}}
                for ans, vis, aud in refs
            ],
        })
    return rows


def if_text_rows() -> list[dict]:
    return [{"prompt_id": f"if-text-{k:03d}", "prompt": p} for k, p in enumerate(items.IF_TEXT, 1)]


def if_image_rows() -> list[dict]:
    rows = []
    for k, (prompt, background, groups) in enumerate(items.IF_IMAGE, 1):
        spec = {"background": background,
                "objects": [{"shape": s, "color": c, "count": n} for n, c, s in groups]}
        rows.append({"prompt_id": f"if-image-{k:03d}", "prompt": prompt, "mini_spec": spec})
    return rows


def if_audio_rows() -> list[dict]:
    rows = []
    for k, (prompt, beeps, pitch) in enumerate(items.IF_AUDIO, 1):
        pid = f"if-audio-{k:03d}"
        spec = {"beeps": beeps, "pitch": pitch}
        questions = [
            ("How many beeps do you hear?", items.COUNT_CHOICES, beeps - 1),
            ("Is the pitch of the beeps low, medium or high?", items.PITCH_CHOICES,
             ["low", "medium", "high"].index(pitch)),
        ]
        for q, (question, options, right) in enumerate(questions, 1):
            rows.append({"prompt_id": pid, "prompt": prompt, "question_id": f"q{q}",
                         "question": question, "choice": choices_text(options),
                         "answer": LETTERS[right], "mini_spec": spec})
    return rows


def color_options(color: str, k: int) -> tuple[list[str], int]:
    """The right color plus three others, the right one at position ``k % 4``."""
    others = [c for c in items.COLOR_CHOICES_POOL if c != color]
    others = (others[k % len(others):] + others[: k % len(others)])[:3]
    pos = k % 4
    return others[:pos] + [color] + others[pos:], pos


def if_video_rows() -> list[dict]:
    rows = []
    for k, (prompt, color, shape, direction, background) in enumerate(items.IF_VIDEO, 1):
        pid = f"if-video-{k:03d}"
        spec = {"background": background, "objects": [{"shape": shape, "color": color,
                                                        "count": 1}], "motion": direction}
        colors, right_color = color_options(color, k)
        questions = [
            ("Which way does the shape move?", items.DIRECTION_CHOICES,
             items.DIRECTION_CHOICES.index(direction)),
            ("What color is the moving shape?", colors, right_color),
        ]
        for q, (question, options, right) in enumerate(questions, 1):
            rows.append({"prompt_id": pid, "prompt": prompt, "question_id": f"q{q}",
                         "question": question, "choice": choices_text(options),
                         "answer": LETTERS[right], "mini_spec": spec})
    return rows


def selection_rows() -> list[dict]:
    rows = []
    for instruction, shares in items.SELECTION:
        uid = hashlib.sha256(instruction.encode()).hexdigest()
        combos = ("t", "i", "a", "ti", "ta", "ia", "tia")
        rows.append({"instruction_uid": uid, "instruction": instruction,
                     "selection": dict(zip(combos, shares, strict=True))})
    return rows


def make(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "amu.jsonl", amu_rows(out))
    write_jsonl(out / "if_text.jsonl", if_text_rows())
    write_jsonl(out / "if_image.jsonl", if_image_rows())
    write_jsonl(out / "if_audio.jsonl", if_audio_rows())
    write_jsonl(out / "if_video.jsonl", if_video_rows())
    write_jsonl(out / "selection_synergy.jsonl", selection_rows())


def differences(a: Path, b: Path) -> list[str]:
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    diff = [f"missing: {p}" for p in sorted(files_a - files_b)]
    diff += [f"unexpected: {p}" for p in sorted(files_b - files_a)]
    diff += [f"differs: {p}" for p in sorted(files_a & files_b)
             if not filecmp.cmp(a / p, b / p, shallow=False) and not same_video(a / p, b / p)]
    return diff


def same_video(a: Path, b: Path, tolerance: float = 3.0) -> bool:
    """Two MP4s with the same frame count, size and fps whose frames differ by at most
    ``tolerance`` levels on average (the same pictures through another encoder build)."""
    if a.suffix != ".mp4":
        return False
    ia, ib = probe_video(a), probe_video(b)
    if (ia.frame_count, ia.width, ia.height, ia.fps) != (
        ib.frame_count, ib.width, ib.height, ib.fps
    ):
        return False
    for fa, fb in zip(sample_video_frames(a), sample_video_frames(b), strict=True):
        diff = np.abs(np.asarray(fa, dtype=np.int16) - np.asarray(fb, dtype=np.int16))
        if float(diff.mean()) > tolerance:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="data folder to write")
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = ap.parse_args(argv)
    if not args.check:
        if args.out.exists():
            shutil.rmtree(args.out)
        make(args.out)
        print(f"wrote {sum(1 for p in args.out.rglob('*') if p.is_file())} files to {args.out}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        make(Path(tmp))
        diff = differences(Path(tmp), args.out)
    for line in diff:
        print(line)
    print("mini suite data is up to date" if not diff else f"{len(diff)} file(s) differ; "
          "run python scripts/make_mini_suite.py")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
