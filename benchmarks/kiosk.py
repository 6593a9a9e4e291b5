"""The kiosk profile: peak RSS and p50 latency for 1 and 2 threads, lean and default.

    python -m benchmarks.kiosk [--rounds 5] [--runs 60] [image ...]

Each measurement is a fresh process (peak RSS is a process's high-water mark): load the reader,
decode the frames, read them ``--runs`` times after 5 untimed reads; lean also sets
``lean_malloc`` as ``edge-alpr --lean`` does. The configurations alternate, ``--rounds``
times, so a slow minute of this shared host falls on all of them; the table gives medians
over the rounds and the ratio to the default of the same thread count. Every process must
read the same plates, or it stops.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys

import numpy as np

from edge_alpr.bench import sample_frames

_CHILD = """
import json
from edge_alpr.bench import peak_rss_bytes, summarize, time_frames
from edge_alpr.image import read_image
from edge_alpr.pipeline import PlateReader
from edge_alpr.session import lean_malloc
if {lean!r}:
    lean_malloc()
reader = PlateReader(threads={threads!r}, lean={lean!r})
frames = [read_image(p) for p in {images!r}]
ms = time_frames(reader, frames, {runs!r}, 5)["total"]
print(json.dumps({{"p50_ms": summarize(ms).p50_ms,
                  "rss_mib": peak_rss_bytes() / 2**20,
                  "plates": [[p.to_dict() for p in reader.read(f)] for f in frames]}}))
"""

CONFIGS = [(threads, lean) for threads in (1, 2) for lean in (False, True)]


def measure(threads: int, lean: bool, images: list[str], runs: int) -> dict:
    code = _CHILD.format(threads=threads, lean=lean, images=images, runs=runs)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="*", help="default: the bundled sample frames")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    images = args.images or [str(p) for p in sample_frames()]
    results: dict[tuple[int, bool], list[dict]] = {c: [] for c in CONFIGS}
    for r in range(args.rounds):
        # Rotate the order each round: no configuration always runs first or last.
        for c in itertools.islice(itertools.cycle(CONFIGS), r, r + len(CONFIGS)):
            results[c].append(measure(*c, images, args.runs))
    plates = {json.dumps(m["plates"]) for ms in results.values() for m in ms}
    if len(plates) != 1:
        sys.exit("the configurations read different plates")
    print(f"{len(images)} frame(s), {args.runs} reads per process, {args.rounds} rounds; "
          "medians over the rounds")
    print("| threads | mode | peak RSS MiB | p50 ms | RSS vs default | p50 vs default |")
    print("|---|---|---|---|---|---|")
    for threads, lean in CONFIGS:
        rss, p50 = (float(np.median([m[k] for m in results[threads, lean]]))
                    for k in ("rss_mib", "p50_ms"))
        base = results[threads, False]
        rss0, p500 = (float(np.median([m[k] for m in base])) for k in ("rss_mib", "p50_ms"))
        print(f"| {threads} | {'lean' if lean else 'default'} | {rss:.1f} | {p50:.1f} | "
              f"{rss / rss0:.3f} | {p50 / p500:.2f} |")


if __name__ == "__main__":
    main()
