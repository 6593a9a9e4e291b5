"""Reading many image files: a few worker threads share one reader, each decoding a file and
reading it, so one file decodes while another is read (OpenCV and onnxruntime release the
GIL). Results come back in input order, and at most a few images are in memory at a time.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import EdgeAlprError
from .image import read_gray, read_image
from .pipeline import PlateReader, PlateResult

# Files read at once, at most: past a few, more workers only add memory (every concurrent
# model call has its own tensors) on the small CPUs this is for.
MAX_WORKERS = 4
# Files decoded or read ahead of the one being returned, per worker: enough to keep every
# worker busy while a slow file holds up the output, few enough to bound memory.
AHEAD_PER_WORKER = 2


def default_workers() -> int:
    """One worker per CPU this process may run on, at most :data:`MAX_WORKERS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def batch_settings(n_files: int, workers: int | None, threads: int | None,
                   lean: bool = False) -> tuple[int, int | None]:
    """Workers and intra-op threads for reading ``n_files``: ``workers`` default to
    :func:`default_workers` (1 for ``lean``, the kiosk profile, where memory comes first;
    never more than the files), and ``threads`` to 1 when there are several workers, since
    parallel files beat parallel operators on small CPUs (README, "Reading a folder"), else to
    onnxruntime's default."""
    workers = max(1, min(workers or (1 if lean else default_workers()), n_files))
    return workers, threads or (1 if workers > 1 else None)


@dataclass(frozen=True)
class FileRead:
    """One file's reading: its plates, or the error that stopped it (a project error, naming
    the file or the model)."""

    path: Path
    plates: tuple[PlateResult, ...] = ()
    width: int = 0  # of the decoded image; 0 when it was not decoded
    height: int = 0
    seconds: float = 0.0  # decode and read
    error: str | None = None
    image: np.ndarray | None = None  # the file as stored, when asked for (annotated copies)


def read_file(reader: PlateReader, path: Path, keep_image: bool = False) -> FileRead:
    """Decode ``path`` to grayscale and read it; with ``keep_image``, also decode it as stored
    for drawing (the reading is the same either way)."""
    t0 = time.perf_counter()
    try:
        gray = read_gray(path)
        plates = tuple(reader.read(gray, source=path))
        image = read_image(path) if keep_image else None
    except EdgeAlprError as e:
        return FileRead(path, seconds=time.perf_counter() - t0, error=str(e))
    return FileRead(path, plates, gray.shape[1], gray.shape[0], time.perf_counter() - t0,
                    image=image)


def read_files(reader: PlateReader, paths: Iterable[Path], workers: int | None = None,
               keep_images: bool = False) -> Iterator[FileRead]:
    """:func:`read_file` for each path on ``workers`` threads (default
    :func:`default_workers`), yielded in input order as each is ready. At most
    ``workers`` × :data:`AHEAD_PER_WORKER` files are in flight; paths are taken from the
    iterable only as room frees up."""
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    todo = iter(paths)
    with ThreadPoolExecutor(workers, thread_name_prefix="edge-alpr-read") as pool:
        pending: deque[Future[FileRead]] = deque()

        def submit() -> None:
            path = next(todo, None)
            if path is not None:
                pending.append(pool.submit(read_file, reader, Path(path), keep_images))

        for _ in range(workers * AHEAD_PER_WORKER):
            submit()
        while pending:
            done = pending.popleft().result()
            submit()
            yield done
