"""``edge-alpr bench`` and the pipeline's stage clock, on the bundled sample. No timing
thresholds: the test machines are shared."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from edge_alpr.bench import STAGES, TOTAL, summarize, time_frames
from edge_alpr.pipeline import PlateReader
from edge_alpr.timing import StageClock

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "scene.jpg"


def edge_alpr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge_alpr.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=REPO)


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader(threads=1)


def test_the_clock_changes_no_result(reader):
    image = cv2.imread(str(SAMPLE))
    clock = StageClock()
    timed = [p.to_dict() for p in reader.read(image, clock=clock)]
    assert timed == [p.to_dict() for p in reader.read(image)]
    assert set(clock.seconds) == set(STAGES)


def test_stage_times_are_positive_and_add_up_to_the_total(reader):
    ms = time_frames(reader, [cv2.imread(str(SAMPLE))], runs=5, warmup=1)
    assert all(len(v) == 5 for v in ms.values())
    assert all(t > 0 for stage in STAGES for t in ms[stage])
    # Means add up exactly where medians need not; the rest is the clock's own overhead.
    stages = sum(summarize(ms[s]).mean_ms for s in STAGES)
    total = summarize(ms[TOTAL]).mean_ms
    assert stages <= total
    assert total - stages <= max(0.1 * total, 0.5)


@pytest.mark.parametrize("runs", [0, -3])
def test_time_frames_refuses_bad_runs(reader, runs):
    with pytest.raises(ValueError, match="runs >= 1"):
        time_frames(reader, [cv2.imread(str(SAMPLE))], runs=runs, warmup=0)


def test_bench_json_has_every_stage():
    run = edge_alpr("bench", "--json", "--runs", "3", "--warmup", "1", "--threads", "1")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert list(report["stages"]) == [*STAGES, TOTAL]
    assert all(s["p50_ms"] > 0 for s in report["stages"].values())
    assert report["fps"] > 0 and report["runs"] == 3
    assert report["cold_start"]["median_s"] > 0 and len(report["cold_start"]["runs_s"]) == 3
    assert report["cold_start"]["peak_rss_mib"] > 0


@pytest.mark.parametrize("args", [["--runs", "0"], ["--runs", "-1"], ["--warmup", "-1"]])
def test_bench_bad_counts_are_usage_errors(args):
    assert edge_alpr("bench", *args).returncode == 2
