"""``edge-alpr bench`` and the pipeline's stage clock, on the bundled sample. No timing
thresholds: the test machines are shared."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import pytest

from edge_alpr.bench import STAGES, TOTAL, sample_frames, summarize, time_frames
from edge_alpr.pipeline import SEGMENTS, WHOLE, PlateReader
from edge_alpr.timing import StageClock

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "scene.jpg"


def edge_alpr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge_alpr.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=REPO)


# The stages each reader runs on the sample's plates; BOTH runs the segmentation's only where
# the whole-plate reading is unsure, which the shipped model is not of the sample's plates.
SEGMENTATION = {"segmentation", "char_cnn", "assembly"}
RUN_BY = {SEGMENTS: set(STAGES) - {"plate_ocr"}, WHOLE: set(STAGES) - SEGMENTATION}


@pytest.fixture(scope="module")
def readers() -> dict[str, PlateReader]:
    return {name: PlateReader(threads=1, reader=name) for name in RUN_BY}


@pytest.mark.parametrize("name", RUN_BY)
def test_the_clock_changes_no_result(readers, name):
    image = cv2.imread(str(SAMPLE))
    clock = StageClock()
    timed = [p.to_dict() for p in readers[name].read(image, clock=clock)]
    assert timed == [p.to_dict() for p in readers[name].read(image)]
    assert set(clock.seconds) == RUN_BY[name]


@pytest.mark.parametrize("name", RUN_BY)
def test_stage_times_are_positive_and_add_up_to_the_total(readers, name):
    ms = time_frames(readers[name], [cv2.imread(str(SAMPLE))], runs=5, warmup=1)
    assert all(len(v) == 5 for v in ms.values())
    assert all(t > 0 for stage in RUN_BY[name] for t in ms[stage])
    assert all(t == 0 for stage in set(STAGES) - RUN_BY[name] for t in ms[stage])
    # Means add up exactly where medians need not; the rest is the clock's own overhead.
    stages = sum(summarize(ms[s]).mean_ms for s in STAGES)
    total = summarize(ms[TOTAL]).mean_ms
    assert stages <= total
    assert total - stages <= max(0.1 * total, 0.5)


@pytest.mark.parametrize("runs", [0, -3])
def test_time_frames_refuses_bad_runs(readers, runs):
    with pytest.raises(ValueError, match="runs >= 1"):
        time_frames(readers[WHOLE], [cv2.imread(str(SAMPLE))], runs=runs, warmup=0)


def test_bench_json_has_every_stage():
    run = edge_alpr("bench", "--json", "--runs", "3", "--warmup", "1", "--threads", "1")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert list(report["stages"]) == [*STAGES, TOTAL]
    assert all(report["stages"][s]["p50_ms"] > 0 for s in [*RUN_BY[WHOLE], TOTAL])
    assert report["fps"] > 0 and report["runs"] == 3
    assert report["cold_start"]["median_s"] > 0 and len(report["cold_start"]["runs_s"]) == 3
    assert report["cold_start"]["peak_rss_mib"] > 0


@pytest.mark.parametrize("args", [["--runs", "0"], ["--runs", "-1"], ["--warmup", "-1"]])
def test_bench_bad_counts_are_usage_errors(args):
    assert edge_alpr("bench", *args).returncode == 2


def test_the_default_input_is_the_sample_frames():
    """The package data when installed, the checkout's samples/ when imported from it."""
    frames = sample_frames()
    assert [p.name for p in frames] == sorted(p.name for p in (REPO / "samples").glob("*.jpg"))
    assert all(p.read_bytes() == (REPO / "samples" / p.name).read_bytes() for p in frames)
    assert all(cv2.imread(str(p)).shape[:2] == (1080, 1920) for p in frames)


def test_an_installed_wheel_finds_its_sample_frames(tmp_path, wheel):
    """Unpacked from the wheel of the files a wheel is made of, so the check does not see the
    repository."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # The unpacked wheel comes first on the path; the repository is not the working folder.
    found = subprocess.run(
        [sys.executable, "-c", "from edge_alpr.bench import sample_frames as f; print(f())"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)}).stdout
    assert found.strip() == str([site / "edge_alpr" / "sample_files" / "scene.jpg"])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs procfs (Linux)")
def test_peak_rss_is_the_fresh_process_own_not_its_parent_peak():
    """A child's ru_maxrss on Linux starts from its parent's peak; peak_rss_bytes must not."""
    import numpy as np

    from edge_alpr.bench import peak_rss_bytes

    big = np.ones(400 * 2**20, np.uint8)  # this process now peaks above 400 MiB
    assert peak_rss_bytes() >= big.nbytes
    code = ("import numpy as np; from edge_alpr.bench import peak_rss_bytes; "
            "small = peak_rss_bytes(); x = np.ones(200 * 2**20, np.uint8); "
            "print(small, peak_rss_bytes())")
    small, grown = map(int, subprocess.run([sys.executable, "-c", code], capture_output=True,
                                           text=True, check=True).stdout.split())
    assert small < 300 * 2**20 < big.nbytes  # not the parent's 400 MiB
    assert grown >= small + 200 * 2**20 - 2**20
