"""--precision / PlateReader(precision=...) for every bundled model, and what info says runs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge_alpr import PlateReader
from edge_alpr.models import AUTO, FP32, INT8, ROLES, choose_precision

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "scene.jpg"
TRUTH = ["4253УБГ", "9081ХӨР"]


def edge_alpr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge_alpr.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=REPO)


@pytest.mark.parametrize("precision", [INT8, FP32, AUTO])
def test_the_reader_runs_every_model_in_the_precision_asked(precision):
    reader = PlateReader(threads=1, precision=precision)
    expected = {role: choose_precision(role, precision) for role in ROLES}
    assert reader.precisions == expected
    assert {role: m.path.name for role, m in reader.models.items()} == {
        role: f"{role}_{p}.onnx" for role, p in expected.items()}
    assert {role: m.metadata["precision"] for role, m in reader.models.items()} == expected
    assert sorted(p.text for p in reader.read(SAMPLE)) == TRUTH


@pytest.mark.parametrize("args, expected", [
    (["--precision", "int8"], INT8), (["--precision", "fp32"], FP32), (["--fp32"], FP32),
    ([], AUTO)])
def test_info_says_what_runs(args, expected):
    run = edge_alpr("info", "--json", *args)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)["precision"]
    assert report["asked"] == expected
    assert report["runs"] == {role: {"precision": choose_precision(role, expected),
                                     "file": f"{role}_{choose_precision(role, expected)}.onnx"}
                              for role in ROLES}


@pytest.mark.parametrize("args", [["--precision", "int8"], ["--fp32"]])
def test_read_with_a_precision_reads_the_sample(args):
    run = edge_alpr("read", "--json", *args, str(SAMPLE))
    assert run.returncode == 0, run.stderr
    assert sorted(p["text"] for p in json.loads(run.stdout)["plates"]) == TRUTH


@pytest.mark.parametrize("args, message", [
    (["--precision", "fp16"], "fp16"),
    (["--precision", "int8", "--fp32"], "contradicts"),
])
def test_bad_precision_is_a_usage_error(args, message):
    run = edge_alpr("read", *args, str(SAMPLE))
    assert run.returncode == 2 and message in run.stderr
