"""One ONNX Runtime session per model file: providers, threads, inputs, outputs, metadata,
and the one check of what a model returns.

This is the one way edge-alpr opens a model: the stages (detector, plate check, recognizer)
receive a ready :class:`OnnxModel`. It keeps no state between calls, so one instance may serve
several threads (``InferenceSession.run`` is thread-safe).
"""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

# Read by onnxruntime when it is first imported. Without it onnxruntime (1.32, Linux) writes a
# telemetry device id under ~/.cache/Microsoft/DeveloperTools, and warns on every start where
# HOME cannot be written (a read-only kiosk). A value the caller set wins.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import onnxruntime  # noqa: E402
from onnxruntime.capi import onnxruntime_pybind11_state as _ort_state  # noqa: E402

from .errors import InferenceError, ModelLoadError  # noqa: E402

log = logging.getLogger(__name__)

# Names accepted from callers (and the command line) for onnxruntime's execution providers.
PROVIDERS: dict[str, str] = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
}
_CPU = PROVIDERS["cpu"]

# Element types of model inputs, as onnxruntime names them, and their numpy dtypes.
_DTYPES: dict[str, np.dtype] = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(float16)": np.dtype(np.float16),
    "tensor(double)": np.dtype(np.float64),
    "tensor(uint8)": np.dtype(np.uint8),
    "tensor(int8)": np.dtype(np.int8),
    "tensor(int32)": np.dtype(np.int32),
    "tensor(int64)": np.dtype(np.int64),
}

# onnxruntime raises its own exception classes, which share no base below Exception.
_ORT_ERRORS: tuple[type[Exception], ...] = tuple(
    e for e in vars(_ort_state).values() if isinstance(e, type) and issubclass(e, Exception))

Dim = int | str | None  # a fixed size, a symbolic one, or unknown
T = TypeVar("T")

# On an accelerator a model with a dynamic batch axis is always run on batches of this size
# (padded, or split): onnxruntime 1.31's CUDA provider took 40-950 ms for a call whose input
# shape differed from the call before, every time, against 0.3-0.8 ms for a repeated shape
# (H200, README "GPU"), and TensorRT builds an engine per shape. A frame's plates, cuts and
# characters fit in one or a few such batches.
ACCELERATOR_BATCH = 8

# A folder for TensorRT's engines: built on the first load (slow on a Jetson), read after.
TRT_CACHE_ENV = "EDGE_ALPR_TRT_CACHE"

# glibc's mallopt parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _mallopt(*settings: tuple[int, int]) -> bool:
    """Set glibc malloc parameters; False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return all(libc.mallopt(param, value) == 1 for param, value in settings)
    except (OSError, AttributeError):
        return False


def lean_malloc() -> bool:
    """Make glibc serve blocks over 128 KiB with mmap, returned to the system when freed.

    Process-wide, so for the process's owner (the command line) to call. By default glibc raises
    that threshold as large blocks are freed and keeps later ones in its heap, which is where a
    lean session's tensors then stay. False where the C library is not glibc.
    """
    return _mallopt((_M_MMAP_THRESHOLD, 128 * 1024))


def reuse_malloc() -> bool:
    """The opposite of :func:`lean_malloc`, for reading many frames: glibc keeps freed blocks
    up to 64 MiB in its heap (and 128 MiB of free heap untrimmed) for the next frame, whose
    buffers have the same sizes. By default a worker thread's decoded image and tensors are
    mapped and unmapped again for every file, faulting in each page: here 400-1,150 page
    faults and 1.5-3 ms of system time per 1080p file, against 15-140 and 0.2-0.6 ms with
    this, for ~3 MiB more peak memory (README, "Reading a folder"). Process-wide, for the
    command line.
    """
    return _mallopt((_M_MMAP_THRESHOLD, 64 << 20), (_M_TRIM_THRESHOLD, 128 << 20))


def _with_options(providers: list[str]) -> list[str | tuple[str, dict[str, str]]]:
    """``providers`` with their options: the TensorRT engine cache when TRT_CACHE_ENV is set."""
    cache = os.environ.get(TRT_CACHE_ENV)
    trt = PROVIDERS["tensorrt"]
    return [(p, {"trt_engine_cache_enable": "True", "trt_engine_cache_path": cache})
            if p == trt and cache else p for p in providers]


def resolve_providers(names: str | Sequence[str], available: Sequence[str],
                      warn: bool = True) -> list[str]:
    """onnxruntime provider names for ``names``, in the order asked, with CPU as the fall-back.

    Providers this onnxruntime build does not have (``available``) are dropped, with a warning
    when ``warn``.
    """
    names = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n.lower() not in PROVIDERS]
    if unknown:
        raise ValueError(f"unknown execution provider(s) {unknown}; "
                         f"allowed: {', '.join(PROVIDERS)}")
    out: list[str] = []
    for name in names:
        provider = PROVIDERS[name.lower()]
        if provider not in available:
            if warn:
                log.warning("execution provider %r (%s) is not available in this onnxruntime "
                            "(it has %s); dropped", name, provider, ", ".join(available))
        elif provider not in out:
            out.append(provider)
    if _CPU not in out:
        out.append(_CPU)
    return out


def accelerator_asked(names: str | Sequence[str]) -> bool:
    """Whether ``names`` put a provider other than the CPU first among those this onnxruntime
    has: what the sessions will run first (the models warn of the dropped ones when loaded)."""
    return resolve_providers(names, onnxruntime.get_available_providers(), warn=False)[0] != _CPU


class OnnxModel:
    """A model file loaded into an onnxruntime session with one input.

    ``providers`` are friendly names (see :data:`PROVIDERS`), tried in order; ``threads`` sets
    the intra-op threads (``None``: onnxruntime's default, one per core). Operators run one
    after the other (inter-op 1): these models are chains, and small CPUs have few cores.
    ``lean`` turns off the CPU memory arena and the memory pattern planning: tensors are
    allocated when needed and freed after, not kept for the next run. The results are the same.
    Idle intra-op threads sleep rather than spin (see the comment in ``__init__``).
    ``fixed_batch``: run every batch as batches of this size (padded, or split), for a model
    whose batch axis is dynamic; by default :data:`ACCELERATOR_BATCH` when the session runs on
    a provider other than the CPU, else each batch as it comes. The results are the same.
    """

    def __init__(self, path: str | Path, providers: str | Sequence[str] = ("cpu",),
                 threads: int | None = None, lean: bool = False,
                 fixed_batch: int | None = None) -> None:
        self.path = Path(path)
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be a positive int or None, got {threads!r}")
        if fixed_batch is not None and fixed_batch < 1:
            raise ValueError(f"fixed_batch must be a positive int or None, got {fixed_batch!r}")
        wanted = resolve_providers(providers, onnxruntime.get_available_providers())
        if not self.path.is_file():
            raise ModelLoadError(self.path, "no such model file")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: onnxruntime decides
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        # Idle pool threads sleep instead of spinning: between model calls the reader runs
        # OpenCV and numpy, which spinning threads starve on a small CPU. On this 2-core host
        # the whole frame's p50 fell from 25-30 ms to 11-14 ms (README, speed).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if lean:
            options.enable_cpu_mem_arena = False
            options.enable_mem_pattern = False
        try:
            self._session = onnxruntime.InferenceSession(str(self.path), options,
                                                         providers=_with_options(wanted))
        except _ORT_ERRORS as e:
            raise ModelLoadError(self.path, f"onnxruntime cannot load it: {e}") from e
        self.providers: tuple[str, ...] = tuple(self._session.get_providers())
        idle = [p for p in wanted if p not in self.providers]
        if idle:  # onnxruntime falls back silently when a provider fails to start
            log.warning("%s: execution provider(s) %s did not start; running on %s",
                        self.path, ", ".join(idle), ", ".join(self.providers))
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise ModelLoadError(self.path, f"expected one input, found {len(inputs)}: "
                                 f"{[i.name for i in inputs]}")
        if inputs[0].type not in _DTYPES:
            raise ModelLoadError(self.path, f"unsupported input type {inputs[0].type}")
        self.input_name: str = inputs[0].name
        self.input_shape: tuple[Dim, ...] = tuple(inputs[0].shape)
        self.fixed_batch: int | None = None  # a fixed batch axis needs none
        if self.input_shape and not isinstance(self.input_shape[0], int):
            on_accelerator = self.providers[0] != _CPU
            self.fixed_batch = fixed_batch or (ACCELERATOR_BATCH if on_accelerator else None)
        self.input_dtype: np.dtype = _DTYPES[inputs[0].type]
        self.output_names: tuple[str, ...] = tuple(o.name for o in self._session.get_outputs())
        self.metadata: dict[str, str] = dict(
            self._session.get_modelmeta().custom_metadata_map)

    def meta(self, key: str, cast: Callable[[str], T]) -> T:
        """Metadata value ``key`` converted by ``cast``; a ModelLoadError naming the model and
        the key when it is missing or does not convert."""
        if key not in self.metadata:
            raise ModelLoadError(self.path, f"metadata {key!r} is missing")
        try:
            return cast(self.metadata[key])
        except ValueError as e:
            raise ModelLoadError(self.path, f"metadata {key!r} is invalid: "
                                 f"{self.metadata[key]!r} ({e})") from e

    def run(self, inputs: np.ndarray, expected: Sequence[tuple[int, ...]] = ()
            ) -> list[np.ndarray]:
        """All outputs, in the order of :attr:`output_names`, for one input batch.

        The outputs are checked here, once for every stage: the first ``len(expected)`` must
        have the given shapes, and no float output may hold NaN or infinity. A model that
        breaks this raises InferenceError naming the model, never a result read from garbage.
        """
        b = self.fixed_batch
        if b is None or len(inputs) == b:
            outputs = self._run(inputs)
        else:
            outputs = self._run_in_batches(np.asarray(inputs), b)
        check_outputs(self.path, self.output_names, outputs, expected)
        return outputs

    def _run(self, inputs: np.ndarray) -> list[np.ndarray]:
        try:
            return self._session.run(None, {self.input_name: inputs})
        except _ORT_ERRORS as e:
            given = np.asarray(inputs)
            raise InferenceError(f"{self.path}: inference failed on input of shape "
                                 f"{given.shape} and dtype {given.dtype}: {e}") from e

    def _run_in_batches(self, inputs: np.ndarray, b: int) -> list[np.ndarray]:
        """``inputs`` padded with zeros to a multiple of ``b``, run ``b`` at a time, and the
        outputs of the real items joined; every output must lead with the batch axis."""
        n = len(inputs)
        pad = -n % b if n else b  # an empty batch too is run at the one shape
        padded = np.concatenate([inputs, np.zeros((pad, *inputs.shape[1:]), inputs.dtype)])
        parts = [self._run(padded[i:i + b]) for i in range(0, len(padded), b)]
        for out, name in zip(parts[0], self.output_names, strict=True):
            if out.ndim == 0 or len(out) != b:
                raise InferenceError(f"{self.path}: output {name} of shape {out.shape} does "
                                     f"not lead with the batch axis ({b}): it cannot be run "
                                     "in fixed batches")
        return [np.concatenate([p[k] for p in parts])[:n] for k in range(len(parts[0]))]

    def __repr__(self) -> str:
        return (f"OnnxModel({str(self.path)!r}, input {self.input_name} {self.input_shape} "
                f"{self.input_dtype}, providers {list(self.providers)})")


def check_outputs(model: str | Path, names: Sequence[str], outputs: Sequence[np.ndarray],
                  expected: Sequence[tuple[int, ...]]) -> None:
    """Raise InferenceError naming ``model`` when an output's shape is not the ``expected``
    one (by position) or a float output is not finite."""
    if len(outputs) < len(expected):
        raise InferenceError(f"{model}: {len(outputs)} output(s), expected {len(expected)}")
    for name, out, shape in zip(names, outputs, expected, strict=False):
        if out.shape != tuple(shape):
            raise InferenceError(f"{model}: output {name!r} has shape {out.shape}, expected "
                                 f"{tuple(shape)}")
    for name, out in zip(names, outputs, strict=True):
        if out.dtype.kind == "f" and not np.isfinite(out).all():
            raise InferenceError(f"{model}: output {name!r} holds NaN or infinite values")
