"""A test clip for ``edge-alpr watch``: the bundled synthetic scene, approached by the camera.

    python -m benchmarks.watch_clip --out out/approach.mp4

The clip is an empty street (the sample scene with its plates painted over), then the scene
with its two plates (``samples/scene.json``) zooming in as if the cars came closer while the
view drifts sideways and once jumps, then the empty street again. Played in a loop, each pass
is one event per plate. Writing H.264 needs the ``ffmpeg`` program; ``frames`` alone needs
only OpenCV.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SIZE = (1280, 720)  # output width, height
FPS = 10
# Seconds: empty street, approach, empty street.
EMPTY_BEFORE, APPROACH, EMPTY_AFTER = 1.0, 4.0, 2.0
# The approach: the camera's window on the scene shrinks from the whole frame to this width
# (the plates grow 1.5x) while its centre drifts from START to END (scene pixels). Half-way
# the view jumps by JUMP (a camera on a pole shaken by a truck): the plates jump about one
# plate width, and no box overlaps the one before.
END_WIDTH = 1280
START, END = (960.0, 540.0), (1130.0, 690.0)
JUMP = (120.0, 0.0)


def truth() -> list[dict]:
    """The plates of the clip: the sample scene's, with their true texts."""
    return json.loads((SAMPLES / "scene.json").read_text())


def _scenes() -> tuple[np.ndarray, np.ndarray]:
    scene = cv2.imread(str(SAMPLES / "scene.jpg"), cv2.IMREAD_COLOR)
    empty = scene.copy()
    for plate in truth():  # paint each plate with the bumper around it
        x0, y0, x1, y1 = (int(v) for v in plate["box"])
        pad = 12
        patch = empty[y0 - pad:y1 + pad, x0 - pad:x1 + pad]
        empty[y0 - pad:y1 + pad, x0 - pad:x1 + pad] = np.median(patch, axis=(0, 1))
    return scene, empty


def _view(scene: np.ndarray, cx: float, cy: float, width: float) -> np.ndarray:
    """The window of ``width`` scene pixels centred at (cx, cy), resized to SIZE."""
    w, h = SIZE
    s = w / width
    # Affine map scene -> output: scale about the window's centre.
    m = np.array([[s, 0, w / 2 - s * cx], [0, s, h / 2 - s * cy]], np.float32)
    return cv2.warpAffine(scene, m, SIZE, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


def frames() -> Iterator[np.ndarray]:
    """The clip's BGR frames, SIZE, FPS frames per second."""
    scene, empty = _scenes()
    full = scene.shape[1]
    for _ in range(int(EMPTY_BEFORE * FPS)):
        yield _view(empty, *START, full)
    n = int(APPROACH * FPS)
    for i in range(n):
        t = i / (n - 1)
        width = full * (END_WIDTH / full) ** t  # constant zoom speed
        cx, cy = (START[k] + (END[k] - START[k]) * t + (JUMP[k] if t >= 0.5 else 0.0)
                  for k in range(2))
        yield _view(scene, cx, cy, width)
    for _ in range(int(EMPTY_AFTER * FPS)):
        yield _view(empty, END[0] + JUMP[0], END[1] + JUMP[1], END_WIDTH)


def write_h264(path: Path, repeat: int = 1) -> Path:
    """Write the clip ``repeat`` times over as H.264 (Matroska or MP4 by the suffix), with a
    key frame every second so that a stream can be joined anywhere."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("writing H.264 needs ffmpeg (apt-get install ffmpeg)")
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = SIZE
    cmd = [ffmpeg, "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
           "-s", f"{w}x{h}", "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset",
           "veryfast", "-crf", "20", "-g", str(FPS), "-pix_fmt", "yuv420p", str(path)]
    clip = list(frames())
    with subprocess.Popen(cmd, stdin=subprocess.PIPE) as proc:
        assert proc.stdin is not None
        for _ in range(repeat):
            for f in clip:
                proc.stdin.write(f.tobytes())
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed writing {path}")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("out/approach.mkv"))
    ap.add_argument("--repeat", type=int, default=1, help="Passes of the clip, one after another.")
    args = ap.parse_args()
    print(write_h264(args.out, args.repeat))


if __name__ == "__main__":
    main()
