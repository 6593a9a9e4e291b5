"""Compare the plate texts in ``edge-alpr read`` output (stdin) with a sample's truth file.

Usage: edge-alpr read scene.jpg | python deploy/check_read.py samples/scene.json
Exit 0 when the texts read are exactly the true ones, 1 otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def plate_texts(output: str) -> list[str]:
    """Texts from the human-readable lines, ``<image>: <text>  conf ...``."""
    return sorted(line.split(": ", 1)[1].split()[0] for line in output.splitlines()
                  if "  conf " in line)


def main(truth_path: str) -> int:
    truth = sorted(p["text"] for p in json.loads(Path(truth_path).read_text(encoding="utf-8")))
    read = plate_texts(sys.stdin.read())
    print(f"read {', '.join(read) or 'nothing'}; expected {', '.join(truth)}: "
          f"{'OK' if read == truth else 'MISMATCH'}")
    return 0 if read == truth else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
