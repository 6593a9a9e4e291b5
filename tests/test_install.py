"""The README's commands and Python example as a new user runs them: after installing the
wheel (not editable), from the checkout's root, where ``python -c`` imports the source folder
``edge_alpr/`` instead of the installed package, and from another folder. ``edge-alpr bench``
end to end (its cold start runs child processes)."""

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
TRUTH = ["4253УБГ", "9081ХӨР"]


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    """A venv holding the edge-alpr wheel built from the checkout's files, its dependencies
    taken from this interpreter's site-packages (a .pth line: nothing downloaded, and this
    environment's own edge_alpr install, editable or not, is not seen)."""
    tmp = tmp_path_factory.mktemp("install")
    env = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True,
                   timeout=120)
    python = env / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True,
                          check=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True,
                   timeout=300)
    # After the install: pip would otherwise find this environment's edge-alpr there and
    # take the requirement as already satisfied.
    ours = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    Path(site, "_edge_alpr_test_deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    installed = subprocess.run([python, "-c", "import edge_alpr; print(edge_alpr.__file__)"],
                               capture_output=True, text=True, check=True, cwd=tmp).stdout
    assert Path(installed.strip()).is_relative_to(site)  # the wheel, not this checkout
    return env


def run(venv: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def readme_python_example() -> str:
    (code,) = re.findall(r"From Python:\n\n```python\n(.*?)```", README, re.DOTALL)
    return code


def readme_main_command() -> list[str]:
    """The last command of the one-line install-and-read of "Read plates (the main job)"."""
    (line,) = re.findall(r"pip install -q \. && (edge-alpr read [^\n]+)", README)
    return line.split()


def test_the_readme_python_example_runs_in_the_checkout_root(venv):
    """Python puts the checkout root first on the path here: it imports the source folder,
    which has no edge_alpr.model_files package (the install makes that)."""
    code = readme_python_example()
    assert '"samples/scene.jpg"' in code  # runnable as written, from the checkout root
    out = run(venv, [str(venv / "bin" / "python"), "-c", code], REPO)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert sorted(line.split()[0] for line in out.stdout.splitlines()) == TRUTH


def test_the_readme_python_example_runs_from_elsewhere(venv, tmp_path):
    code = readme_python_example().replace('"samples/scene.jpg"',
                                           repr(str(REPO / "samples" / "scene.jpg")))
    out = run(venv, [str(venv / "bin" / "python"), "-c", code], tmp_path)
    assert out.returncode == 0, out.stderr
    assert sorted(line.split()[0] for line in out.stdout.splitlines()) == TRUTH


@pytest.mark.parametrize("where", ["checkout", "elsewhere"])
def test_the_readme_main_command_reads_the_sample(venv, tmp_path, where):
    args = readme_main_command()
    assert args == ["edge-alpr", "read", "samples/scene.jpg"]
    if where == "elsewhere":
        args[-1] = str(REPO / args[-1])
    out = run(venv, args, REPO if where == "checkout" else tmp_path)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert sorted(line.split()[1] for line in out.stdout.splitlines()) == TRUTH


@pytest.mark.parametrize("where", ["checkout", "elsewhere"])
@pytest.mark.parametrize("command", ["edge-alpr info", "edge-alpr bench --runs 100 --threads 2"])
def test_readme_commands_run(venv, tmp_path, command, where):
    assert command in README
    out = run(venv, command.split(), REPO if where == "checkout" else tmp_path)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    if command == "edge-alpr info":
        assert "model detector_fp32.onnx: " in out.stdout and "error" not in out.stdout
    else:  # the stages, the frame rate, and the cold start of fresh child processes
        assert re.search(r"^total +\d", out.stdout, re.MULTILINE)
        assert re.search(r"cold start .*: \d+\.\d+ s; peak RSS \d+ MiB", out.stdout)

