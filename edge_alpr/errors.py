"""The project's errors. Each names the file or the shape that caused it."""

from __future__ import annotations

from pathlib import Path


class EdgeAlprError(Exception):
    """Base of every error raised on purpose by edge-alpr."""


class AnnotationError(EdgeAlprError, ValueError):
    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


class InvalidImageError(EdgeAlprError, ValueError):
    """An image that cannot be read or has an unusable shape or dtype."""

    def __init__(self, source: str | Path | None, problem: str) -> None:
        super().__init__(f"{source}: {problem}" if source is not None else problem)
        self.source = source
        self.problem = problem


class ModelLoadError(EdgeAlprError, FileNotFoundError):
    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)


class InferenceError(EdgeAlprError, RuntimeError):
    """The model failed on an input it accepted; never reported as 'no plate'."""
