"""Expand the user's paths: files as given, directories recursively (images by extension,
any case), and glob patterns; in the order given, directory contents sorted."""

from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator
from pathlib import Path

from .image import IMAGE_SUFFIXES


def expand(paths: Iterable[str]) -> Iterator[Path]:
    """Each input image once, in input order. A path that matches nothing is yielded as is,
    so the caller reports it as an error on its own line instead of dropping it."""
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*")
                           if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        elif not p.exists() and glob.has_magic(raw):
            found = sorted(Path(f) for f in glob.glob(raw, recursive=True) if Path(f).is_file())
        else:
            found = [p]
        for f in found:
            if f not in seen:
                seen.add(f)
                yield f
