"""The service's memory under steady load and under a flood: the server's RSS while 2 clients
post frames, then while many more clients than it admits post at once (refused ones get 503).

    python -m benchmarks.serve_flood [--steady 1000] [--flood-clients 24] [--flood 600]

Loopback only; one plain server (``edge-alpr serve --threads 2 --queue 8``), fixed request
counts. Prints one JSON object: RSS samples (MiB), status counts, and the 503s' Retry-After.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections import Counter
from pathlib import Path

from benchmarks.serve_load import HOST, Config, free_port, start_server, stop_server, wait_ready
from edge_alpr.bench import sample_frames


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def hammer(base: str, frame: bytes, clients: int, count: int, pid: int, samples: list[float]
           ) -> Counter[str]:
    """``count`` requests from ``clients`` threads; RSS sampled every 50 requests."""
    import requests

    lock = threading.Lock()
    taken = [0]
    statuses: Counter[str] = Counter()

    def client() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    if taken[0] >= count:
                        return
                    taken[0] += 1
                    if taken[0] % 50 == 0:
                        samples.append(round(rss_mib(pid), 1))
                try:
                    r = session.post(base + "/v1/vision/alpr", files={"upload": frame},
                                     timeout=60)
                    key = str(r.status_code)
                    if r.status_code == 503:
                        key += f" retry-after {r.headers.get('retry-after')}"
                except requests.RequestException as e:
                    key = type(e).__name__
                with lock:
                    statuses[key] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steady", type=int, default=1000, help="requests from 2 clients")
    parser.add_argument("--flood-clients", type=int, default=24)
    parser.add_argument("--flood", type=int, default=600, help="requests in the flood")
    args = parser.parse_args()
    frame = sample_frames()[0].read_bytes()
    port = free_port()
    base = f"http://{HOST}:{port}"
    proc = start_server(Config("server, 2 threads", "server", 2), port)
    try:
        wait_ready(proc, base, 1)
        started = round(rss_mib(proc.pid), 1)
        steady: list[float] = []
        steady_status = hammer(base, frame, 2, args.steady, proc.pid, steady)
        flood: list[float] = []
        flood_status = hammer(base, frame, args.flood_clients, args.flood, proc.pid, flood)
        after = round(rss_mib(proc.pid), 1)
    finally:
        stop_server(proc)
    print(json.dumps({"rss_mib_ready": started, "steady_rss_mib": steady,
                      "steady_status": steady_status, "flood_clients": args.flood_clients,
                      "flood_rss_mib": flood, "flood_status": flood_status,
                      "rss_mib_after": after}, indent=1))


if __name__ == "__main__":
    main()
