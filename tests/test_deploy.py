"""What deploy/aarch64.sh relies on, checked here without the emulation (that takes tens of
minutes; see the README's Deployment section): the wheel built from the checkout, the pins it
carries, the script's syntax, and its check of the plate texts. Also a read-only install, read
by an unprivileged user."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "deploy" / "aarch64.sh"
sys.path.insert(0, str(REPO / "deploy"))
from check_read import plate_texts  # noqa: E402

from edge_alpr.cli import _emit  # noqa: E402
from edge_alpr.models import ROLES, shipped_precisions  # noqa: E402

TRUTH = ["4253УБГ", "9081ХӨР"]


def test_the_wheel_is_pure_python_and_carries_models_assets_and_sample(wheel):
    assert wheel.name.endswith("-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for role in ROLES:  # every model in each precision it ships in, and at least one
        shipped = shipped_precisions(role)
        assert shipped, role
        for precision in shipped:
            assert f"edge_alpr/model_files/{role}_{precision}.onnx" in names
    assert {"edge_alpr/assets/glyphs.png", "edge_alpr/assets/glyphs.json",
            "edge_alpr/sample_files/scene.jpg", "edge_alpr/py.typed"} <= names


def test_the_wheel_pins_what_pyproject_pins(wheel):
    """The script resolves the wheel's own requirements for aarch64: these are its pins."""
    with zipfile.ZipFile(wheel) as z:
        (meta,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        lines = z.read(meta).decode().splitlines()
    required = [line.split(": ", 1)[1] for line in lines if line.startswith("Requires-Dist: ")
                and "extra ==" not in line]
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    # Compared as requirements: the wheel may write a specifier's clauses in another order.
    assert [Requirement(r) for r in required] == [Requirement(r) for r in
                                                  project["dependencies"]]


def test_the_script_parses_and_lists_no_pins_of_its_own():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    text = SCRIPT.read_text()
    assert not re.search(r"\w==\d", text)  # the versions come from the wheel's metadata
    assert "--only-binary=:all:" in text and "--python-version 3.11" in text
    assert "manylinux2014_aarch64" in text and '"$wheel"' in text


def test_check_read_parses_what_read_prints(capsys):
    plates = [{"text": t, "confidence": 0.9, "layout": "one-row", "box": [1.0, 2.0, 3.0, 4.0],
               "matches_pattern": True, "reader": "both"} for t in TRUTH[::-1]]
    _emit(False, {"image": "/opt/sample/scene.jpg", "plates": plates})
    _emit(False, {"image": "b.jpg", "plates": []})
    assert plate_texts(capsys.readouterr().out) == TRUTH


def _nobody_can_run() -> str | None:
    """Why the read-only check cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root, to run a command as the user nobody"
    if shutil.which("runuser") is None:
        return "no runuser"
    try:
        import pwd
        pwd.getpwnam("nobody")
    except KeyError:
        return "no user nobody"
    if not Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}").exists():
        return "no system Python of this version for nobody to run (this one may be under /root)"
    return None


def test_a_read_only_install_reads_as_an_unprivileged_user(wheel):
    reason = _nobody_can_run()
    if reason:
        pytest.skip(reason)
    python = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    site = Path(tempfile.mkdtemp(prefix="edge-alpr-ro-"))
    try:
        site.chmod(0o755)  # readable by all, writable by root only, like a system install
        zipfile.ZipFile(wheel).extractall(site)
        deps = sysconfig.get_paths()["purelib"]  # this venv's onnxruntime, cv2, numpy, typer
        env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8",
               "PYTHONPATH": f"{site}:{deps}"}
        before = sorted(site.rglob("*"))
        run = subprocess.run(
            [shutil.which("runuser"), "-u", "nobody", "--", python, "-m", "edge_alpr.cli", "read",
             str(site / "edge_alpr" / "sample_files" / "scene.jpg")],
            capture_output=True, text=True, timeout=300, cwd="/", env=env)
        if "No module named" in run.stderr and str(deps) not in run.stderr:
            pytest.skip(f"nobody cannot import this venv's packages: {run.stderr[-200:]}")
        assert run.returncode == 0, run.stderr
        assert run.stderr == ""  # no warning, no traceback, nothing about a cache
        assert plate_texts(run.stdout) == TRUTH
        assert sorted(site.rglob("*")) == before
    finally:
        shutil.rmtree(site)


def test_reading_writes_nothing_into_home(tmp_path):
    """onnxruntime would store a telemetry id under ~/.cache; edge_alpr turns that off."""
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    run = subprocess.run([sys.executable, "-m", "edge_alpr.cli", "read", str(REPO / "samples"
                          / "scene.jpg")], capture_output=True, text=True, timeout=300,
                         env={**env, "HOME": str(tmp_path)})
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert list(tmp_path.iterdir()) == []
