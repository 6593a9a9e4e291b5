"""The models shipped with edge-alpr: their files by role and precision, and checksums.

The top-level ``models/`` folder is installed as the package ``edge_alpr.model_files``
(pyproject.toml's package-dir mapping; an editable install maps it the same way).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import ModelLoadError

log = logging.getLogger(__name__)

DETECTOR = "detector"
CHARS = "chars"
VERIFIER = "plate_check"  # the detector's second stage (edge_alpr.verifier)
ROLES: tuple[str, ...] = (DETECTOR, CHARS, VERIFIER)
INT8 = "int8"
FP32 = "fp32"
PRECISIONS: tuple[str, ...] = (INT8, FP32)

_CHUNK = 1 << 20  # bytes read at a time for checksums


@dataclass(frozen=True)
class ModelInfo:
    name: str  # file name, e.g. detector_int8.onnx
    path: Path
    sha256: str


def models_dir() -> Path:
    """The folder of the bundled models."""
    return Path(str(resources.files("edge_alpr.model_files")))


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
