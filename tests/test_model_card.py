"""Every shipped model is described in the model card with its current checksum and metadata."""

from pathlib import Path

import pytest

from edge_alpr.models import models_dir, sha256_of

CARD = models_dir() / "MODEL_CARD.md"
MODELS = sorted(models_dir().glob("*.onnx"))


def test_models_are_shipped_and_small():
    assert {p.name for p in MODELS} >= {"chars_fp32.onnx", "chars_int8.onnx"}
    assert all(p.stat().st_size < 5_000_000 for p in MODELS)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_model_card_names_the_file_and_its_sha256(path: Path):
    card = CARD.read_text(encoding="utf-8")
    assert path.name in card
    assert sha256_of(path) in card, f"{path.name}: its sha256 is not in {CARD.name}"
