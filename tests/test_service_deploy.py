"""What the service's deployment files promise, checked without systemd or root: the kiosk unit
(a system user, restarted on failure, a read-only system), the wheel's service package and
extras, and the syntax of the two-node Ray script (README, "HTTP service")."""

import configparser
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
UNIT = REPO / "deploy" / "edge-alpr.service"


@pytest.fixture(scope="module")
def unit():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_kiosk_unit_runs_the_service_unprivileged_read_only_and_restarts_it(unit):
    service = unit["Service"]
    assert service["User"] not in ("", "root") and service["Group"] not in ("", "root")
    assert service["Restart"] == "on-failure"
    command = service["ExecStart"].split()
    assert command[0].endswith("/bin/edge-alpr") and command[1] == "serve"
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert "--token" not in command  # from EnvironmentFile, out of ps
    assert service["EnvironmentFile"].lstrip("-").startswith("/etc/")
    assert service["ProtectSystem"] == "strict" and service["ProtectHome"] == "yes"
    assert service["NoNewPrivileges"] == "yes" and service["CapabilityBoundingSet"] == ""
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_finds_nothing_wrong_but_the_missing_install(tmp_path):
    run = subprocess.run(["systemd-analyze", "verify", str(UNIT)], capture_output=True,
                         text=True, cwd=tmp_path, timeout=60)
    problems = [line for line in run.stderr.splitlines()
                if line.strip() and "/opt/edge-alpr/bin/edge-alpr" not in line]
    assert problems == []


def test_the_wheel_carries_the_service_and_declares_its_extras(wheel):
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    for module in ("__init__", "app", "http", "queue", "shapes", "uploads", "metrics",
                   "server", "ray_serve"):
        assert f"edge_alpr/service/{module}.py" in names
    metadata = next(archive.read(n).decode() for n in names if n.endswith("/METADATA"))
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    plain = [r for r in requires if "extra ==" not in r]
    assert not any(dep in r for r in plain for dep in ("starlette", "uvicorn", "ray"))
    serve = [r for r in requires if 'extra == "serve"' in r]
    assert {"starlette", "uvicorn", "python-multipart", "prometheus-client"} <= {
        r.split()[1].split("[")[0].split("=")[0].lower() for r in serve}
    assert any("ray[serve]" in r and 'extra == "ray"' in r for r in requires)


@pytest.mark.parametrize("script", ["ray_two_nodes.sh"])
def test_deploy_scripts_parse(script):
    subprocess.run(["bash", "-n", str(REPO / "deploy" / script)], check=True)


def test_cluster_check_compiles():
    compile((REPO / "deploy" / "ray_cluster_check.py").read_text(), "ray_cluster_check.py",
            "exec")
