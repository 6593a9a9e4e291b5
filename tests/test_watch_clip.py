"""A clip made from the sample scene, zooming in as if the cars came closer while the view
drifts: `edge-alpr watch` and `edge-alpr video` report exactly one track per plate, with its
true text, no junk and no split."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from benchmarks import watch_clip

pytest.importorskip("paho.mqtt")  # the watch extra

TRUTH = sorted(p["text"] for p in watch_clip.truth())


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "approach.avi"
    w, h = watch_clip.SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), watch_clip.FPS, (w, h))
    for frame in watch_clip.frames():
        writer.write(frame)
    writer.release()
    return path


def edge_alpr(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "edge_alpr.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def watch_events(tmp_path, name, source, camera_options):
    """The events `edge-alpr watch` writes to a JSON-lines file for one camera on ``source``
    with ``camera_options`` (TOML lines), after a clean exit; and the finished run."""
    config = tmp_path / "watch.toml"
    config.write_text(f'[[cameras]]\nname = "{name}"\nsource = "{source}"\n{camera_options}\n'
                      '[outputs.jsonl]\npath = "events.jsonl"\n')
    run = edge_alpr("watch", str(config))
    assert run.returncode == 0, run.stderr
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines], run


@pytest.mark.parametrize("every", [1, 3])
def test_watch_reports_one_event_per_plate_of_an_approaching_car(clip, tmp_path, every):
    events, run = watch_events(tmp_path, "gate", clip, f"every = {every}")
    assert sorted(e["text"] for e in events) == TRUTH  # one per plate: no junk, no split
    n_plate_frames = int(watch_clip.APPROACH * watch_clip.FPS)
    for e in events:
        assert e["event"] == "end" and e["camera"] == "gate" and e["matches_pattern"]
        assert e["direction"] == "approaching"
        # the plate was followed through most of the frames it was read in
        assert e["frames"] >= 0.7 * n_plate_frames / every
        assert e["first_seen"] <= e["last_seen"]
        crop = cv2.imread(e["crop"])
        assert crop is not None and crop.shape[1] > crop.shape[0]  # a plate's shape
        assert cv2.imread(e["frame"]).shape[:2] == (watch_clip.SIZE[1], watch_clip.SIZE[0])
    assert "end of" in run.stderr  # the file source ended cleanly


def test_video_uses_the_same_tracker(clip):
    run = edge_alpr("video", str(clip))
    assert run.returncode == 0, run.stderr
    tracks = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(t["text"] for t in tracks) == TRUTH
    assert all(t["direction"] == "approaching" for t in tracks)


@pytest.fixture(scope="module")
def scene_clip(tmp_path_factory):
    """The sample scene itself, 1920x1080, six frames drifting 3 px a frame."""
    path = tmp_path_factory.mktemp("scene") / "scene.avi"
    scene = cv2.imread(str(watch_clip.SAMPLES / "scene.jpg"))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (1920, 1080))
    for i in range(6):
        writer.write(np.roll(scene, 3 * i, axis=1))
    writer.release()
    return path


@pytest.mark.parametrize("camera, expected", [
    ("", TRUTH),
    ("roi = [0, 300, 1200, 1080]", ["4253УБГ"]),  # the left car only
    ("min_plate_width = 150", ["4253УБГ"]),  # the far car's plate is ~86 px wide
])
def test_roi_and_min_plate_width(scene_clip, tmp_path, camera, expected):
    events, _ = watch_events(tmp_path, "cam", scene_clip, camera)
    assert sorted(e["text"] for e in events) == expected
    truth = {p["text"]: p["box"] for p in watch_clip.truth()}
    for e in events:  # boxes in the whole frame's pixels, wherever the region of interest
        box, true = e["read"]["box"], truth[e["text"]]
        assert abs(box[0] - true[0]) < 40 and abs(box[1] - true[1]) < 20


def test_seen_events_come_first_and_a_broken_camera_never_stops_the_others(clip, tmp_path):
    config = tmp_path / "watch.toml"
    config.write_text(f'[[cameras]]\nname = "gate"\nsource = "{clip}"\n'
                      f'[[cameras]]\nname = "broken"\nsource = "{tmp_path / "none.mp4"}"\n'
                      '[outputs.jsonl]\npath = "-"\n')
    run = edge_alpr("watch", str(config), "--seen")
    assert run.returncode == 1  # a camera failed ...
    assert f"camera broken: {tmp_path / 'none.mp4'} cannot be opened" in run.stderr
    events = [json.loads(line) for line in run.stdout.splitlines()]  # ... the other read on
    assert [e["event"] for e in events].count("seen") == 2
    for text in TRUTH:
        kinds = [(e["event"], e["frames"]) for e in events if e["text"] == text]
        assert [k for k, _ in kinds] == ["seen", "end"] and kinds[0][1] < kinds[1][1]
        assert len({e["id"] for e in events if e["text"] == text}) == 1  # one vehicle


@pytest.mark.parametrize("config, code, message", [
    ("[[cameras]]\nname = \"x\"\n", 2, "cameras[0] needs source"),
    (None, 2, "no such file"),
])
def test_watch_config_errors_are_one_line_without_traceback(tmp_path, config, code, message):
    path = tmp_path / "watch.toml"
    if config is not None:
        path.write_text(config)
    run = edge_alpr("watch", str(path))
    assert run.returncode == code and message in run.stderr and "Traceback" not in run.stderr
