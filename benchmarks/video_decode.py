"""Sampling frames from a long video: seek-based (eval_anything.media.video) against decoding
everything.

    python benchmarks/video_decode.py                 # make the clip (once), measure, print
    python benchmarks/video_decode.py --minutes 1     # a shorter clip for a quick look

The script writes a 1280x720, 24 fps H.264 clip of ``--minutes`` minutes (10 by default: 14,400
frames, x264's default 250-frame keyframe interval) with PyAV, then samples 8 and 32 frames from
it three ways, each in a fresh process so its peak memory is its own:

- ``seek``: :func:`eval_anything.media.video.sample_video_frames` (find each frame by timestamp,
  seek to the keyframe before it, decode forward to it; keep only the sampled frames);
- ``decode-stream``: decode every frame in order, keep only the sampled ones (no seeking);
- ``decode-all``: decode every frame into a list of RGB images, then sample (what eval-anything
  did before: memory grows with the clip). It runs under a memory cap (``--cap-gib``, 6 by
  default) and reports how far it got when the cap stops it, and what all frames would take.

Peak memory is the process's peak resident set minus its resident set after imports (Linux
``ru_maxrss``). Figures go in docs/benchmarks.md ("Video decode").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WIDTH, HEIGHT, FPS = 1280, 720, 24


def make_clip(path: Path, minutes: float) -> None:
    """A moving gradient with a sliding box, streamed to the encoder (never all in memory)."""
    import av

    n = int(minutes * 60 * FPS)
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    base = np.stack([xs * 255 // WIDTH, ys * 255 // HEIGHT, (xs + ys) * 255 // (WIDTH + HEIGHT)],
                    axis=-1).astype(np.uint8)
    tmp = path.with_suffix(".partial.mp4")
    with av.open(str(tmp), "w") as out:
        vs = out.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        vs.codec_context.options = {"preset": "ultrafast", "crf": "28"}
        for k in range(n):
            frame = np.roll(base, k * 4, axis=1)
            x = (k * 7) % (WIDTH - 160)
            frame[280:440, x : x + 160] = (255, 255, 255)
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts = k
            out.mux(vs.encode(vf))
        out.mux(vs.encode(None))
    tmp.rename(path)


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(method: str, clip: Path, n: int) -> dict[str, object]:
    """One method in this process: wall seconds, memory above the post-import baseline."""
    import av
    from PIL import Image

    from eval_anything.media.video import frame_indices, probe_video, sample_video_frames

    info = probe_video(clip)
    base = rss_mib()
    start = time.perf_counter()
    decoded = 0
    if method == "seek":
        kept = sample_video_frames(clip, num_frames=n)
    else:
        want = set(frame_indices(info.frame_count, info.fps, num_frames=n))
        frames: list[Image.Image] = []
        try:
            with av.open(str(clip)) as c:
                c.streams.video[0].thread_type = "AUTO"
                for k, frame in enumerate(c.decode(video=0)):
                    if method == "decode-all":
                        frames.append(Image.fromarray(frame.to_ndarray(format="rgb24")))
                    elif k in want:
                        frames.append(frame.to_image())
                    decoded += 1
        except MemoryError:
            frames.clear()
            return {"method": method, "frames": n, "out_of_memory_after": decoded,
                    "of": info.frame_count, "wall_s": round(time.perf_counter() - start, 2),
                    "all_gib": round(info.frame_count * info.width * info.height * 3 / 2**30, 1)}
        kept = frames if method != "decode-all" else [frames[i] for i in sorted(want)]
    wall = time.perf_counter() - start
    return {"method": method, "frames": n, "kept": len(kept), "decoded": decoded or None,
            "wall_s": round(wall, 2), "peak_mib": round(peak_mib() - base, 1),
            "kept_mib": round(len(kept) * info.width * info.height * 3 / 2**20, 1)}


def run_child(method: str, clip: Path, n: int, cap_gib: float) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", method, "--clip", str(clip), "--frames", str(n),
           "--cap-gib", str(cap_gib)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode == 0:
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
    return {"method": method, "frames": n, "failed": tail[-160:]}


def child(args: argparse.Namespace) -> None:
    if args.child == "decode-all":  # the cap stops it before it takes the machine down
        cap = int(args.cap_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    print(json.dumps(measure(args.child, args.clip, args.frames)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="clip length (default 10)")
    ap.add_argument("--clip", type=Path, default=None, help="clip to use or make")
    ap.add_argument("--cap-gib", type=float, default=6.0, help="memory cap for decode-all")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    clip = args.clip or Path("/tmp") / f"eval-anything-bench-{args.minutes:g}min-720p.mp4"
    if not clip.exists():
        t0 = time.perf_counter()
        make_clip(clip, args.minutes)
        print(f"made {clip} ({clip.stat().st_size / 2**20:.1f} MiB) in "
              f"{time.perf_counter() - t0:.0f} s")
    from eval_anything.media.video import probe_video

    info = probe_video(clip)
    print(f"clip: {info.width}x{info.height}, {info.fps:g} fps, {info.frame_count} frames, "
          f"{info.duration_s:.0f} s, {info.codec}")
    rows = [run_child(m, clip, n, args.cap_gib)
            for n in (8, 32) for m in ("seek", "decode-stream", "decode-all")]
    print("| method | frames | wall (s) | peak memory (MiB) | kept frames (MiB) |")
    print("|---|---|---|---|---|")
    for r in rows:
        if "out_of_memory_after" in r:
            print(f"| {r['method']} | {r['frames']} | stopped at {r['wall_s']} | over the "
                  f"{args.cap_gib:g} GiB cap after {r['out_of_memory_after']} of {r['of']} frames"
                  f" (all frames: {r['all_gib']} GiB) | - |")
        elif "failed" in r:
            print(f"| {r['method']} | {r['frames']} | - | over the {args.cap_gib:g} GiB cap "
                  f"({r['failed']}) | - |")
        else:
            print(f"| {r['method']} | {r['frames']} | {r['wall_s']} | {r['peak_mib']} | "
                  f"{r['kept_mib']} |")


if __name__ == "__main__":
    main()
