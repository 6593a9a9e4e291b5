"""`edge-alpr read` over a folder: wall time (decode included), CPU time and peak RSS of whole
commands, alternating, in fresh processes.

    python -m benchmarks.batch DIR [--rounds 5] [--command NAME=COMMAND ...]
    python -m benchmarks.batch DIR --make 100    # first: DIR gets 100 1080p colour JPEGs

``--make N`` writes N 1920×1080 colour JPEGs (OpenCV's quality 95) made from the real photos
of ../shared (scaled to cover 1080p, centre-cropped, repeated) into DIR, for a folder to read;
keep DIR outside the repository (the photos are never committed).

Each COMMAND is run as ``COMMAND --json DIR`` (split on spaces), e.g.
``--command today=/tmp/old/bin/edge-alpr read --command workers1=edge-alpr read --workers 1``;
without --command: ``edge-alpr read`` (default settings) against ``--workers 1``. The commands
alternate, their order rotating each round, so a busy minute of a shared host falls on all of
them. Prints per command the median files/s (wall, process start to exit), CPU seconds per
file (user + system), peak RSS (the child's own ru_maxrss: this parent stays far below it),
and the ratios of the medians to the first command; and how many files' plate texts differ
from the first command's. Load averages are printed before and after.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from edge_alpr.inputs import expand


def measure(command: list[str], folder: Path) -> dict:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    child = subprocess.Popen([*command, "--json", str(folder)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    out, err = child.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({child.returncode}): {err.decode()[-2000:]}")
    texts = {}
    for line in out.decode().splitlines():
        record = json.loads(line)
        texts[Path(record["image"]).name] = [p["text"] for p in record.get("plates", [])]
    return {"wall_s": wall,
            "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            # RUSAGE_CHILDREN's ru_maxrss is the largest child's peak (KiB on Linux).
            "rss_mib": after.ru_maxrss / 1024, "texts": texts}


REAL = Path(__file__).resolve().parent.parent.parent / "shared/data/mongolian-alpr/images"


def make_jpegs(folder: Path, n: int) -> None:
    import cv2

    photos = sorted(REAL.glob("*.jpg"))
    if not photos:
        sys.exit(f"no photos in {REAL}")
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for path in photos:
        image = cv2.imread(str(path))  # colour, as a camera frame is
        scale = max(1920 / image.shape[1], 1080 / image.shape[0])
        image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA)
        y, x = (image.shape[0] - 1080) // 2, (image.shape[1] - 1920) // 2
        frames.append(image[y:y + 1080, x:x + 1920])
    for i in range(n):
        cv2.imwrite(str(folder / f"{i:03d}.jpg"), frames[i % len(frames)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--make", type=int, metavar="N",
                        help="write N JPEGs into FOLDER, then stop")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--command", action="append", default=[],
                        help="NAME=COMMAND, run as COMMAND --json FOLDER")
    args = parser.parse_args()
    if args.make:
        make_jpegs(args.folder, args.make)
        return
    commands = dict(c.split("=", 1) for c in args.command) or {
        "default": "edge-alpr read", "workers1": "edge-alpr read --workers 1"}
    commands = {name: c.split() for name, c in commands.items()}
    n_files = sum(1 for _ in expand([str(args.folder)]))
    print(f"{n_files} files in {args.folder}; {args.rounds} rounds; load before "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    names = list(commands)
    results: dict[str, list[dict]] = {n: [] for n in names}
    for r in range(args.rounds):
        # Rotate: no command always runs first or last. Each run's RSS is its own process's
        # peak only when larger than any earlier child's: run it through a fresh interpreter.
        for name in itertools.islice(itertools.cycle(names), r, r + len(names)):
            m = measure_isolated(commands[name], args.folder)
            results[name].append(m)
            print(f"round {r + 1} {name}: {n_files / m['wall_s']:.1f} files/s, "
                  f"{m['cpu_s'] / n_files * 1e3:.1f} ms CPU/file, {m['rss_mib']:.1f} MiB",
                  flush=True)
    print(f"load after {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    first = names[0]
    med = {n: {k: float(np.median([m[k] for m in results[n]]))
               for k in ("wall_s", "cpu_s", "rss_mib")} for n in names}
    print("| command | files/s (median) | CPU ms/file | peak RSS MiB | files/s vs "
          f"{first} | CPU vs {first} | files whose texts differ from {first} |")
    print("|---|---|---|---|---|---|---|")
    for n in names:
        differ = sum(results[n][0]["texts"].get(f) != t
                     for f, t in results[first][0]["texts"].items())
        print(f"| {n} | {n_files / med[n]['wall_s']:.1f} | "
              f"{med[n]['cpu_s'] / n_files * 1e3:.1f} | {med[n]['rss_mib']:.1f} | "
              f"{med[first]['wall_s'] / med[n]['wall_s']:.2f} | "
              f"{med[n]['cpu_s'] / med[first]['cpu_s']:.2f} | {differ} |")


# Runs one measurement in a fresh, small interpreter, so RUSAGE_CHILDREN's peak is this
# command's alone (it is a maximum over all children ever waited for).
_ISOLATED = """
import json, sys
from pathlib import Path
from benchmarks.batch import measure
print(json.dumps(measure(json.loads(sys.argv[1]), Path(sys.argv[2]))))
"""


def measure_isolated(command: list[str], folder: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _ISOLATED, json.dumps(command), str(folder)],
                         capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout
    return json.loads(out.splitlines()[-1])


if __name__ == "__main__":
    main()
