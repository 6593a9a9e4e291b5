import pytest

from export.data import DATA_DIR


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if (DATA_DIR / "plates.csv").is_file():
        return
    skip = pytest.mark.skip(
        reason=f"needs the real photos at {DATA_DIR} (../shared beside the project)")
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)
