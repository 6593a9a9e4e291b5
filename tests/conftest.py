import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from export.data import DATA_DIR

REPO = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if (DATA_DIR / "plates.csv").is_file():
        return
    skip = pytest.mark.skip(
        reason=f"needs the real photos at {DATA_DIR} (../shared beside the project)")
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel --no-deps`` of a copy of the files a wheel is made of (none of build/ or the
    checkout's other files can leak in), built once for the tests that install or open it."""
    tmp = tmp_path_factory.mktemp("wheel")
    for name in ("edge_alpr", "models", "samples"):
        shutil.copytree(REPO / name, tmp / "src" / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tmp / "src" / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp),
                    str(tmp / "src")], check=True, capture_output=True, timeout=300)
    (path,) = tmp.glob("edge_alpr-*.whl")
    return path
