import hashlib
from pathlib import Path

import pytest

from edge_alpr import models
from edge_alpr.errors import ModelLoadError
from edge_alpr.models import (
    AUTO,
    AUTO_PRECISION,
    CHARS,
    DETECTOR,
    FP32,
    INT8,
    VERIFIER,
    ModelInfo,
    bundled_model,
    choose_precision,
    sha256_of,
)

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
                       match="roles: detector, plate_check, chars, plate_ocr; "
                             "precisions: int8, fp32"):
        models.model_file_name(role, precision)


def test_sha256_of_large_file_and_missing_file(tmp_path):
    data = bytes(range(256)) * 10_000  # several read chunks
    (tmp_path / "m.onnx").write_bytes(data)
    assert sha256_of(tmp_path / "m.onnx") == hashlib.sha256(data).hexdigest()
    with pytest.raises(ModelLoadError, match="nope.onnx"):
        sha256_of(tmp_path / "nope.onnx")


def test_models_dir_of_an_editable_install_is_the_top_level_folder():
    assert models.models_dir().resolve() == (REPO / "models").resolve()


def test_a_source_checkout_without_the_installed_data_package_uses_its_models_folder(
        monkeypatch):
    """Python run in a checkout's root imports edge_alpr from the checkout, where the package
    ``edge_alpr.model_files`` (made by the install's package-dir mapping) does not exist."""
    def not_installed(package):
        raise ModuleNotFoundError(f"No module named {package!r}", name=package)

    monkeypatch.setattr(models.resources, "files", not_installed)
    assert models.models_dir() == REPO / "models"
    assert bundled_model(DETECTOR, FP32).path == REPO / "models" / "detector_fp32.onnx"


@pytest.mark.parametrize("role, asked, dot_product, expected", [
    (DETECTOR, INT8, False, INT8),
    (DETECTOR, FP32, True, FP32),
    (DETECTOR, AUTO, False, AUTO_PRECISION[DETECTOR]),
    (VERIFIER, AUTO, False, AUTO_PRECISION[VERIFIER]),
    (CHARS, AUTO, False, AUTO_PRECISION[CHARS]),
    (DETECTOR, AUTO, True, INT8),  # ARM with int8 dot product: INT8 for every model
    (VERIFIER, AUTO, True, INT8),
    (CHARS, AUTO, True, INT8),
])
def test_choose_precision(bundle, role, asked, dot_product, expected):
    assert choose_precision(role, asked, dot_product) == expected


@pytest.mark.parametrize("role", models.ROLES)
@pytest.mark.parametrize("dot_product", [False, True])
def test_auto_is_fp32_on_an_accelerator_and_asked_precisions_stay(bundle, role, dot_product):
    assert choose_precision(role, AUTO, dot_product, accelerator=True) == FP32
    assert choose_precision(role, INT8, dot_product, accelerator=True) == INT8


def test_every_role_has_an_auto_precision_and_ships():
    assert set(AUTO_PRECISION) == set(models.ROLES)
    assert all(models.shipped_precisions(role) for role in models.ROLES)
    assert all(models.shipped_precisions(role) == (INT8, FP32)
               for role in (DETECTOR, VERIFIER, CHARS))


@pytest.mark.parametrize("asked", [INT8, FP32, AUTO])
def test_a_model_shipped_in_one_precision_runs_in_that_one(bundle, asked):
    (bundle / "chars_int8.onnx").unlink()
    assert choose_precision(CHARS, asked, dot_product=True) == FP32


@pytest.mark.parametrize("role, precision", [("plate", AUTO), (CHARS, "fp16"), (CHARS, "")])
def test_choose_precision_refuses_unknown_roles_and_precisions(role, precision):
    with pytest.raises(ValueError, match="plate_check|auto"):
        choose_precision(role, precision)
