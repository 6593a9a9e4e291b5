"""The real ``edge-alpr`` command, run as a user runs it, on the bundled sample and on
broken files. Needs the shipped models."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_alpr.geometry import Box

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "scene.jpg"
TRUTH = json.loads((REPO / "samples" / "scene.json").read_text(encoding="utf-8"))


def edge_alpr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge_alpr.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=REPO)


def test_reading_never_imports_tensorflow():
    code = ("import sys; from edge_alpr import PlateReader; "
            f"plates = PlateReader().read({str(SAMPLE)!r}); "
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'tf2onnx')); print(len(plates), heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout.split("\n")[0]
    assert out == f"{len(TRUTH)} []"


def test_read_json_gives_the_sample_plates():
    run = edge_alpr("read", "--json", str(SAMPLE))
    assert run.returncode == 0, run.stderr
    (line,) = run.stdout.splitlines()
    record = json.loads(line)
    assert (record["width"], record["height"]) == (1920, 1080)
    assert sorted(p["text"] for p in record["plates"]) == sorted(t["text"] for t in TRUTH)
    for plate in record["plates"]:
        truth = next(t for t in TRUTH if t["text"] == plate["text"])
        assert Box(*plate["box"]).iou(Box(*truth["box"])) >= 0.5
        assert plate["layout"] == truth["layout"] and plate["matches_pattern"]
        assert len(plate["chars"]) == 7 and plate["candidates"][0]["text"] == plate["text"]


def _broken_inputs(folder: Path) -> dict[str, str | None]:
    """File name → expected error fragment (None: must be read)."""
    data = SAMPLE.read_bytes()
    image = cv2.imread(str(SAMPLE))
    (folder / "a_good.jpg").write_bytes(data)
    (folder / "b_empty.jpg").write_bytes(b"")
    (folder / "c_corrupt.jpg").write_bytes(np.random.default_rng(0).bytes(5000))
    (folder / "d_truncated.jpg").write_bytes(data[: len(data) // 3])
    (folder / "e_text.png").write_text("not an image")
    cv2.imwrite(str(folder / "f_16bit.png"), image[:, :, 0].astype(np.uint16) * 257)
    cv2.imwrite(str(folder / "g_rgba.png"), cv2.cvtColor(image, cv2.COLOR_BGR2BGRA))
    cv2.imwrite(str(folder / "h_tiny.png"), image[:10, :10])
    cv2.imwrite(str(folder / "i_extreme.png"), np.full((1, 20000), 128, np.uint8))
    return {"a_good.jpg": None, "b_empty.jpg": "empty file", "c_corrupt.jpg": "not a decodable",
            # OpenCV 5 decodes no part of a truncated JPEG: a clear error, the batch goes on.
            "d_truncated.jpg": "not a decodable", "e_text.png": "not a decodable",
            "f_16bit.png": None,
            "g_rgba.png": None, "h_tiny.png": None, "i_extreme.png": None}


def test_a_folder_with_broken_files_gives_one_line_each_and_exit_1(tmp_path):
    expected = _broken_inputs(tmp_path)
    run = edge_alpr("read", "--json", str(tmp_path))
    assert run.returncode == 1, run.stderr
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert [Path(r["image"]).name for r in records] == sorted(expected)
    for r in records:
        problem = expected[Path(r["image"]).name]
        if problem is None:
            assert "plates" in r, r
        else:
            assert problem in r["error"] and Path(r["image"]).name in r["error"]
    by_name = {Path(r["image"]).name: r for r in records}
    for name in ("a_good.jpg", "f_16bit.png", "g_rgba.png"):  # same scene, other encodings
        assert sorted(p["text"] for p in by_name[name]["plates"]) == sorted(
            t["text"] for t in TRUTH)


def test_out_writes_annotated_copies_and_never_overwrites_inputs(tmp_path):
    src = tmp_path / "scene.jpg"
    src.write_bytes(SAMPLE.read_bytes())
    (tmp_path / "scene.alpr.jpg").write_bytes(b"a user's file with the copy's name")
    run = edge_alpr("read", "--json", "--out", str(tmp_path), str(src),
                    str(tmp_path / "scene.alpr.jpg"))
    assert src.read_bytes() == SAMPLE.read_bytes()
    assert (tmp_path / "scene.alpr.jpg").read_bytes() == b"a user's file with the copy's name"
    first = json.loads(run.stdout.splitlines()[0])
    annotated = cv2.imread(first["annotated"])
    assert Path(first["annotated"]).name == "scene.alpr-1.jpg"
    assert annotated.shape == (1080, 1920, 3)
    assert np.abs(annotated.astype(int) - cv2.imread(str(src)).astype(int)).max() > 100


@pytest.mark.parametrize("args", [[], ["read"], ["read", "--bogus", "x.jpg"]])
def test_usage_errors_exit_2(args):
    assert edge_alpr(*args).returncode == 2


def test_video_tracks_each_plate_once_with_its_text(tmp_path):
    frame = cv2.imread(str(SAMPLE))
    path = tmp_path / "drive.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (1920, 1080))
    for i in range(12):  # the scene drifting left, 4 px a frame
        writer.write(np.roll(frame, -4 * i, axis=1))
    writer.release()
    run = edge_alpr("video", str(path), "--every", "2")
    assert run.returncode == 0, run.stderr
    tracks = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(t["text"] for t in tracks) == sorted(t["text"] for t in TRUTH)
    # One track per plate (no splits) that held the plate through most of the 6 read frames.
    assert all(t["frames"] >= 4 for t in tracks)


def test_one_reader_shared_by_threads_reads_like_one_thread():
    from concurrent.futures import ThreadPoolExecutor

    from edge_alpr import PlateReader

    reader = PlateReader(threads=1)
    image = cv2.imread(str(SAMPLE))
    frames = [np.roll(image, -8 * i, axis=1) for i in range(8)]
    alone = [[p.to_dict() for p in reader.read(f)] for f in frames]
    with ThreadPoolExecutor(4) as pool:
        shared = list(pool.map(lambda f: [p.to_dict() for p in reader.read(f)], frames))
    assert shared == alone
    assert all(len(plates) == len(TRUTH) for plates in alone)


@pytest.mark.parametrize("command", ["read", "video", "bench"])
def test_an_unknown_provider_is_a_usage_error_naming_the_allowed(command):
    run = edge_alpr(command, "--provider", "bogus", str(SAMPLE))
    assert run.returncode == 2
    assert "bogus" in run.stderr and "tensorrt" in run.stderr
