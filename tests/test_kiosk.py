"""The kiosk profile: lean sessions read exactly what the default ones read; edge-alpr info
names the providers a reader uses. Needs the shipped models."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import onnxruntime
import pytest

from edge_alpr import PlateReader

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "scene.jpg"


def edge_alpr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge_alpr.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=REPO)


@pytest.mark.parametrize("threads", [1, 2])
def test_lean_reads_exactly_what_the_default_reads(threads):
    image = cv2.imread(str(SAMPLE))
    frames = [image, cv2.resize(image, (960, 540)), image[200:900, 400:1700]]
    default, lean = PlateReader(threads=threads), PlateReader(threads=threads, lean=True)
    assert lean.detector.model._session.get_session_options().enable_cpu_mem_arena is False
    for frame in frames * 2:  # twice: a lean session keeps nothing from the previous run
        assert ([p.to_dict() for p in lean.read(frame)]
                == [p.to_dict() for p in default.read(frame)])


def test_read_lean_prints_what_read_prints():
    runs = [edge_alpr("read", "--json", "--threads", "1", *flag, str(SAMPLE))
            for flag in ([], ["--lean"])]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    plain, lean = ({k: v for k, v in json.loads(r.stdout).items() if k != "ms"} for r in runs)
    assert lean == plain and len(plain["plates"]) == 2


def test_lean_malloc_is_set_on_glibc():
    if not sys.platform.startswith("linux"):
        pytest.skip("mallopt is glibc's")
    code = "from edge_alpr.session import lean_malloc; print(lean_malloc())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "True"


def test_info_reports_the_providers_a_reader_uses_and_no_jit():
    run = edge_alpr("info", "--json", "--provider", "cuda", "--provider", "cpu")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    used = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
            if p in onnxruntime.get_available_providers()]  # CPU alone on a host without CUDA
    small = "fp32" if len(used) == 2 else "int8"  # auto precision is FP32 on a GPU
    assert report["in_use"] == {"detector_fp32.onnx": used, "plate_check_fp32.onnx": used,
                                f"chars_{small}.onnx": used, f"plate_ocr_{small}.onnx": used}
    assert report["jit"] is None
    assert all(m["sha256"] for m in report["models"].values())


def test_info_without_package_metadata(monkeypatch):
    # onnxruntime-gpu (and NVIDIA's Jetson build) install no "onnxruntime" distribution, and a
    # source checkout on PYTHONPATH has no "edge-alpr" one: info still reports the versions.
    import importlib.metadata

    from typer.testing import CliRunner

    from edge_alpr.cli import app

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    run = CliRunner().invoke(app, ["info", "--json"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    assert report["packages"]["onnxruntime"] == onnxruntime.__version__
    assert report["edge_alpr"] == "not installed (source checkout)"
