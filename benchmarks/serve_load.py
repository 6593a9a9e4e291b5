"""Load on the HTTP service: requests/s, latency percentiles, CPU per request and errors with
C concurrent clients, for the plain server (1 and 2 reading threads) and Ray Serve (1 and 2
replicas), against ``PlateReader.read`` in one process with no HTTP at all.

    python -m benchmarks.serve_load [--rounds 3] [--requests 120] [--clients 2] [image ...]

Loopback only (127.0.0.1), bounded: each measurement stops after ``--requests`` requests or
``--seconds`` seconds, whichever comes first. Every configuration runs in fresh processes of
its own session (servers started with ``edge-alpr serve``), in an order rotated each round so
that a slow minute of this shared host falls on all of them; the table gives the median over
the rounds and the ratio to the faster in-process baseline of the same round. Clients post
real frames (the bundled sample by default) as CodeProject.AI clients do, a multipart file
part ``upload``, over keep-alive connections; a response that is not a 200 with the frame's
plates is an error. CPU per request is the user + system time of every process of the
configuration (Ray's daemons, proxy and replicas included) over the timed requests: a measure
of the work done that a busy host's scheduling distorts less than requests/s.

The baselines are what one process gets from ``PlateReader.read(path)`` on the same JPEG files
(decoding included, as the service decodes each upload), one reader (``threads=1``) shared by
1 or 2 threads.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edge_alpr.bench import sample_frames

HOST = "127.0.0.1"  # never anything but loopback
WARMUP_PER_CLIENT = 3
START_TIMEOUT_S = 120

_BASELINE = """
import json, sys, threading, time
from edge_alpr.pipeline import PlateReader
frames = {images!r}
reader = PlateReader(threads=1)
for path in frames:
    reader.read(path)
count, deadline = {requests!r}, time.perf_counter() + {seconds!r}
lock, taken, lat = threading.Lock(), [0], []
def client(i):
    while True:
        with lock:
            if taken[0] >= count or time.perf_counter() > deadline:
                return
            n = taken[0]; taken[0] += 1
        t0 = time.perf_counter()
        reader.read(frames[n % len(frames)])
        with lock:
            lat.append(time.perf_counter() - t0)
threads = [threading.Thread(target=client, args=(i,)) for i in range({threads!r})]
t0, cpu0 = time.perf_counter(), time.process_time()
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({{"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - cpu0,
                  "latencies_s": lat}}))
"""


@dataclass
class Config:
    name: str
    kind: str  # "baseline", "server" or "ray"
    count: int  # reading threads (baseline, server) or replicas (ray)


@dataclass
class Run:
    config: str
    round: int
    ok: int
    errors: int
    wall_s: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_ms: float  # CPU time (user + system) per good request, every process of the config
    load: tuple[float, float, float]
    error_samples: list[str] = field(default_factory=list)


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range, where the ports that Ray's own
    processes take at random cannot land on it between this choice and the proxy's bind."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 30000)
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-29999")


def _percentiles(latencies_s: list[float]) -> tuple[float, float, float]:
    if not latencies_s:
        return (float("nan"),) * 3
    p = np.percentile(np.array(latencies_s) * 1e3, [50, 95, 99])
    return float(p[0]), float(p[1]), float(p[2])


def run_baseline(config: Config, images: list[str], requests: int, seconds: float,
                 round_: int) -> Run:
    code = _BASELINE.format(images=images, requests=requests, seconds=seconds,
                            threads=config.count)
    # Its own session, as the servers have: with autogroup scheduling each session gets its
    # share of a busy host, so all configurations compete on the same terms.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=seconds + START_TIMEOUT_S,
                         start_new_session=True).stdout
    result = json.loads(out.splitlines()[-1])
    lat = result["latencies_s"]
    return Run(config.name, round_, len(lat), 0, result["wall_s"], len(lat) / result["wall_s"],
               *_percentiles(lat), result["cpu_s"] * 1e3 / max(1, len(lat)), os.getloadavg())


def session_cpu_s(session: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a session."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[3]) == session:  # fields after "(comm)": state ppid pgrp session ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def start_server(config: Config, port: int) -> subprocess.Popen:
    args = [sys.executable, "-m", "edge_alpr.cli", "serve", "--host", HOST, "--port",
            str(port)]
    if config.kind == "ray":
        args += ["--ray", "--replicas", str(config.count), "--threads", "1"]
    else:
        args += ["--threads", str(config.count)]
    # Its own session: whatever it starts (Ray's daemons) can be signalled as a group. Its log
    # goes to a file: a pipe nobody reads fills up and blocks the server's next log line.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    proc.log = log  # type: ignore[attr-defined]
    return proc


def wait_ready(proc: subprocess.Popen, base: str, replicas: int) -> None:
    """Until /healthz answers (and, for Ray, every replica has answered it)."""
    import requests

    seen: set[str] = set()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            proc.log.seek(0)  # type: ignore[attr-defined]
            raise RuntimeError(f"server exited with {proc.returncode}: "
                               f"{proc.log.read().decode()[-2000:]}")  # type: ignore[attr-defined]
        try:
            seen.add(requests.get(base + "/healthz", timeout=5).json()["instance"])
            if len(seen) >= replicas:
                return
        except (requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server not ready after {START_TIMEOUT_S} s")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        pass
    # Ray's daemons may outlive the driver by a moment; they are in its session.
    for _ in range(50):
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)


def load(base: str, frames: list[bytes], expected: list[list[str]], clients: int,
         requests_: int, seconds: float, path: str, session: int
         ) -> tuple[list[float], int, float, list[str], float]:
    """``clients`` threads, each with a keep-alive session, until ``requests_`` were sent or
    ``seconds`` passed. Returns latencies of good responses, errors, wall time, samples, and
    the CPU seconds the server's session used meanwhile."""
    import requests

    lock = threading.Lock()
    taken = [0]
    latencies: list[float] = []
    errors: list[str] = []

    def client() -> None:
        with requests.Session() as session:
            for i in range(WARMUP_PER_CLIENT):
                session.post(base + path, files={"upload": frames[i % len(frames)]}, timeout=60)
            barrier.wait()
            deadline = time.perf_counter() + seconds
            while True:
                with lock:
                    if taken[0] >= requests_ or time.perf_counter() > deadline:
                        return
                    n = taken[0]
                    taken[0] += 1
                t0 = time.perf_counter()
                try:
                    r = session.post(base + path, files={"upload": frames[n % len(frames)]},
                                     timeout=60)
                    good = r.status_code == 200 and sorted(
                        p["plate"] for p in r.json()["predictions"]) == expected[
                        n % len(frames)]
                    problem = "" if good else f"{r.status_code} {r.text[:200]}"
                except requests.RequestException as e:
                    problem = f"{type(e).__name__}: {e}"
                elapsed = time.perf_counter() - t0
                with lock:
                    if problem:
                        errors.append(problem)
                    else:
                        latencies.append(elapsed)

    barrier = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()  # every client warmed up: the clock starts now
    t0, cpu0 = time.perf_counter(), session_cpu_s(session)
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - t0, session_cpu_s(session) - cpu0
    return latencies, len(errors), wall, errors[:3], cpu


def run_server(config: Config, frames: list[bytes], expected: list[list[str]], clients: int,
               requests_: int, seconds: float, round_: int, path: str) -> Run:
    port = free_port()
    base = f"http://{HOST}:{port}"
    proc = start_server(config, port)
    try:
        wait_ready(proc, base, config.count if config.kind == "ray" else 1)
        lat, errors, wall, samples, cpu_s = load(base, frames, expected, clients, requests_,
                                                 seconds, path, proc.pid)
    finally:
        stop_server(proc)
    return Run(config.name, round_, len(lat), errors, wall, len(lat) / wall,
               *_percentiles(lat), cpu_s * 1e3 / max(1, len(lat)), os.getloadavg(), samples)


def expected_plates(images: list[str]) -> list[list[str]]:
    from edge_alpr.pipeline import PlateReader

    reader = PlateReader(threads=1)
    return [sorted(p.text for p in reader.read(i)) for i in images]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="*", help="default: the bundled sample frames")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=120, help="per measurement")
    parser.add_argument("--seconds", type=float, default=60.0, help="per measurement, at most")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--path", default="/v1/vision/alpr")
    parser.add_argument("--no-ray", action="store_true", help="plain server only")
    parser.add_argument("--out", type=Path, help="write every run as JSON here")
    args = parser.parse_args()
    images = args.images or [str(p) for p in sample_frames()]
    frames = [Path(p).read_bytes() for p in images]
    expected = expected_plates(images)
    configs = [Config("PlateReader.read in-process, 1 thread", "baseline", 1),
               Config("PlateReader.read in-process, 2 threads", "baseline", 2),
               Config("server, 1 thread", "server", 1), Config("server, 2 threads", "server", 2)]
    if not args.no_ray:
        configs += [Config("Ray Serve, 1 replica", "ray", 1),
                    Config("Ray Serve, 2 replicas", "ray", 2)]
    runs: list[Run] = []
    for r in range(args.rounds):
        order = configs[r % len(configs):] + configs[:r % len(configs)]
        for config in order:
            if config.kind == "baseline":
                run = run_baseline(config, images, args.requests, args.seconds, r)
            else:
                run = run_server(config, frames, expected, args.clients, args.requests,
                                 args.seconds, r, args.path)
            runs.append(run)
            print(f"round {r} {run.config}: {run.rps:.1f} req/s, p50 {run.p50_ms:.1f} ms, "
                  f"p99 {run.p99_ms:.1f} ms, CPU {run.cpu_ms:.1f} ms/req, {run.errors} errors, "
                  f"load {run.load[0]:.2f}",
                  file=sys.stderr, flush=True)
    if args.out:
        args.out.write_text(json.dumps([asdict(r) for r in runs], indent=1))
    print(table(configs, runs, args.clients))


def table(configs: list[Config], runs: list[Run], clients: int) -> str:
    """Medians over the rounds; "vs in-process" is each round's ratio to the faster of the two
    in-process baselines of that round."""
    baselines = [c.name for c in configs if c.kind == "baseline"]
    base = {r.round: 0.0 for r in runs}
    for r in runs:
        if r.config in baselines:
            base[r.round] = max(base[r.round], r.rps)
    med = statistics.median
    lines = [f"| configuration ({clients} clients; in-process: reading threads) | req/s | "
             "vs in-process | p50 ms | p95 ms | p99 ms | p99/p50 | CPU ms/req | errors | "
             "load avg (1 min) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for c in configs:
        mine = [r for r in runs if r.config == c.name]
        lines.append(
            f"| {c.name} | {med([r.rps for r in mine]):.1f} | "
            f"{med([r.rps / base[r.round] for r in mine]):.2f} | "
            f"{med([r.p50_ms for r in mine]):.1f} | {med([r.p95_ms for r in mine]):.1f} | "
            f"{med([r.p99_ms for r in mine]):.1f} | "
            f"{med([r.p99_ms / r.p50_ms for r in mine]):.2f} | "
            f"{med([r.cpu_ms for r in mine]):.1f} | {sum(r.errors for r in mine)} | "
            f"{min(r.load[0] for r in mine):.1f}-{max(r.load[0] for r in mine):.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
