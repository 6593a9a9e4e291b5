"""The models shipped with edge-alpr: their files by role and precision, which precision
runs, and checksums.

The top-level ``models/`` folder is installed as the package ``edge_alpr.model_files``
(pyproject.toml's package-dir mapping; an editable install maps it the same way). Where
edge_alpr is imported from a source checkout instead (Python run in the checkout's root, where
the working folder comes first on the path), that package does not exist and the checkout's
``models/`` folder is used.
"""

from __future__ import annotations

import hashlib
import logging
import platform
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from .errors import ModelLoadError

log = logging.getLogger(__name__)

DETECTOR = "detector"
CHARS = "chars"
VERIFIER = "plate_check"  # the detector's second stage (edge_alpr.verifier)
PLATE_OCR = "plate_ocr"  # the whole-plate recognizer (edge_alpr.plate_ocr)
INT8 = "int8"
FP32 = "fp32"
AUTO = "auto"
PRECISIONS: tuple[str, ...] = (INT8, FP32)
PRECISION_CHOICES: tuple[str, ...] = (*PRECISIONS, AUTO)

# Every model role, with the precision ``auto`` runs it in on a CPU without int8 dot-product
# instructions: what measured faster on this project's x86-64 host (2 cores, AVX-512 VNNI),
# whole frames alternating (python -m benchmarks.precision; README, "Precision"). A new model
# role is added here and nowhere else for --precision, auto and `edge-alpr info` to know it.
AUTO_PRECISION: dict[str, str] = {
    DETECTOR: FP32,
    VERIFIER: FP32,
    CHARS: INT8,
    PLATE_OCR: INT8,  # 0.88× fp32's time for 2 plates, same validation reads (model card)
}
ROLES: tuple[str, ...] = tuple(AUTO_PRECISION)

_CHUNK = 1 << 20  # bytes read at a time for checksums


@dataclass(frozen=True)
class ModelInfo:
    name: str  # file name, e.g. detector_int8.onnx
    path: Path
    sha256: str


def bundled_dir(package: str, folder: str) -> Path:
    """The installed data package ``package`` (``edge_alpr.model_files``), or, where edge_alpr
    is imported from a source checkout, the checkout's top-level ``folder`` it is built from."""
    try:
        return Path(str(resources.files(package)))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / folder


def models_dir() -> Path:
    """The folder of the bundled models."""
    return bundled_dir("edge_alpr.model_files", "models")


def model_file_name(role: str, precision: str = INT8) -> str:
    """``detector_int8.onnx`` and the like."""
    if role not in ROLES or precision not in PRECISIONS:
        raise ValueError(f"no bundled model for role {role!r} and precision {precision!r}; "
                         f"roles: {', '.join(ROLES)}; precisions: {', '.join(PRECISIONS)}")
    return f"{role}_{precision}.onnx"


def bundled_model(role: str, precision: str = INT8) -> ModelInfo:
    """The shipped model file for ``role`` (DETECTOR, CHARS or VERIFIER) at ``precision``."""
    path = models_dir() / model_file_name(role, precision)
    if not path.is_file():
        raise ModelLoadError(path, f"the bundled {role} model ({precision}) is missing")
    info = ModelInfo(path.name, path, sha256_of(path))
    log.debug("bundled %s model: %s sha256 %s", role, path, info.sha256)
    return info


def shipped_precisions(role: str) -> tuple[str, ...]:
    """The precisions ``role`` ships in, in the order of :data:`PRECISIONS`."""
    return tuple(p for p in PRECISIONS if (models_dir() / model_file_name(role, p)).is_file())


@cache
def int8_dot_product() -> bool:
    """Whether this CPU has the ARM int8 dot-product instructions (``asimddp``, Armv8.2+:
    Cortex-A55/A75 and later, Jetson Orin's A78AE), which onnxruntime's INT8 kernels use."""
    if platform.machine().lower() not in ("aarch64", "arm64"):
        return False
    if platform.system() == "Darwin":  # every Apple silicon core has it
        return True
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("Features") and "asimddp" in line.split() for line in f)
    except OSError:
        return False


def choose_precision(role: str, precision: str = AUTO, dot_product: bool | None = None,
                     accelerator: bool = False) -> str:
    """The precision ``role`` runs in when ``precision`` (int8, fp32 or auto) is asked.

    ``auto``: FP32 where the models run on an ``accelerator`` (a GPU provider: onnxruntime's
    CUDA provider ran the INT8 whole-plate model at 0.65 ms a call against 0.31 ms for FP32 on an
    H200, and read 2 of 13 frames otherwise than INT8 on the CPU; README "GPU"); INT8 on ARM CPUs
    with int8 dot-product instructions (:func:`int8_dot_product`); else :data:`AUTO_PRECISION`.
    A model that ships in one precision only runs in that one.
    """
    if role not in ROLES:
        raise ValueError(f"unknown model role {role!r}; roles: {', '.join(ROLES)}")
    if precision not in PRECISION_CHOICES:
        raise ValueError(f"unknown precision {precision!r}; choose from "
                         f"{', '.join(PRECISION_CHOICES)}")
    if precision == AUTO and accelerator:
        precision = FP32
    elif precision == AUTO:
        dot_product = int8_dot_product() if dot_product is None else dot_product
        precision = INT8 if dot_product else AUTO_PRECISION[role]
    shipped = shipped_precisions(role)
    if precision in shipped or not shipped:  # none: bundled_model says which file is missing
        return precision
    log.info("%s ships in %s only; running that instead of %s", role, shipped[0], precision)
    return shipped[0]


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's contents."""
    path = Path(path)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    except OSError as e:
        raise ModelLoadError(path, f"cannot read it: {e}") from e
    return digest.hexdigest()
