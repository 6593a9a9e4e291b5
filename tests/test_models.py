import hashlib
from pathlib import Path

import pytest

from edge_alpr import models
from edge_alpr.errors import ModelLoadError
from edge_alpr.models import CHARS, DETECTOR, FP32, INT8, ModelInfo, bundled_model, sha256_of

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def bundle(tmp_path, monkeypatch) -> Path:
    """A models folder holding every bundled file, each with distinct bytes."""
    for role in models.ROLES:
        for precision in models.PRECISIONS:
            (tmp_path / f"{role}_{precision}.onnx").write_bytes(f"{role}/{precision}".encode())
    monkeypatch.setattr(models, "models_dir", lambda: tmp_path)
    return tmp_path


@pytest.mark.parametrize("role, precision, name", [
    (DETECTOR, INT8, "detector_int8.onnx"),
    (DETECTOR, FP32, "detector_fp32.onnx"),
    (CHARS, INT8, "chars_int8.onnx"),
    (CHARS, FP32, "chars_fp32.onnx"),
])
def test_bundled_model_by_role_and_precision(bundle, role, precision, name):
    info = bundled_model(role, precision)
    path = bundle / name
    assert info == ModelInfo(name, path, hashlib.sha256(path.read_bytes()).hexdigest())


def test_int8_is_the_default(bundle):
    assert bundled_model(CHARS).name == "chars_int8.onnx"


def test_missing_bundled_model_names_the_path(bundle):
    (bundle / "chars_fp32.onnx").unlink()
    with pytest.raises(ModelLoadError, match="chars_fp32.onnx") as e:
        bundled_model(CHARS, FP32)
    assert e.value.path == bundle / "chars_fp32.onnx"


@pytest.mark.parametrize("role, precision", [("plate", INT8), (DETECTOR, "fp16"), ("", "")])
def test_unknown_role_or_precision(role, precision):
    with pytest.raises(ValueError,
                       match="roles: detector, chars, plate_check; precisions: int8, fp32"):
        models.model_file_name(role, precision)


def test_sha256_of_large_file_and_missing_file(tmp_path):
    data = bytes(range(256)) * 10_000  # several read chunks
    (tmp_path / "m.onnx").write_bytes(data)
    assert sha256_of(tmp_path / "m.onnx") == hashlib.sha256(data).hexdigest()
    with pytest.raises(ModelLoadError, match="nope.onnx"):
        sha256_of(tmp_path / "nope.onnx")


def test_models_dir_of_an_editable_install_is_the_top_level_folder():
    assert models.models_dir().resolve() == (REPO / "models").resolve()
