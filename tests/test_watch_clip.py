"""A clip made from the sample scene, zooming in as if the cars came closer while the view
drifts: `edge-alpr watch` and `edge-alpr video` report exactly one track per plate, with its
true text, no junk and no split."""

import json
import subprocess
import sys

import cv2
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


@pytest.mark.parametrize("every", [1, 3])
def test_watch_reports_one_event_per_plate_of_an_approaching_car(clip, tmp_path, every):
    config = tmp_path / "watch.toml"
    config.write_text(f'[[cameras]]\nname = "gate"\nsource = "{clip}"\nevery = {every}\n'
                      '[outputs.jsonl]\npath = "events.jsonl"\n')
    run = edge_alpr("watch", str(config))
    assert run.returncode == 0, run.stderr
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
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
