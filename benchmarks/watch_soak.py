"""Soak ``edge-alpr watch``: the approach clip looped as a live RTSP stream for a long time,
with every output on (JSON Lines, reads log, webhook, MQTT when mosquitto is there).

    nice -n 10 python -m benchmarks.watch_soak --minutes 30 [--out out/watch_soak.json]

Needs ffmpeg, mosquitto and GStreamer's RTSP server for Debian's python3 (the packages of
.ci/run). Everything listens on 127.0.0.1 and is stopped at the end. Samples the watch
process's RSS every ``--every`` seconds and checks the events: each pass of the clip (one
every ``watch_clip`` duration) must give exactly one event per plate, none lost, none doubled.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from benchmarks import watch_clip
from tests.watch_services import (
    Receiver,
    RtspServer,
    free_port,
    mosquitto,
    need,
    stop,
    watch_process,
)

PASS_S = watch_clip.EMPTY_BEFORE + watch_clip.APPROACH + watch_clip.EMPTY_AFTER


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slope_per_hour(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS (MiB) over time, per hour."""
    ts, vs = [t for t, _ in samples], [v for _, v in samples]
    mt, mv = statistics.fmean(ts), statistics.fmean(vs)
    var = sum((t - mt) ** 2 for t in ts)
    return 3600 * sum((t - mt) * (v - mv) for t, v in samples) / var if var else 0.0


def check_events(events: list[dict], truth: list[str]) -> dict:
    """Group the events by pass (first-seen time) and count lost and doubled plates."""
    t0 = min(e["first_seen_s"] for e in events)
    passes: dict[int, list[str]] = {}
    for e in events:
        passes.setdefault(round((e["first_seen_s"] - t0) / PASS_S), []).append(e["text"])
    full = range(min(passes), max(passes) + 1)
    lost = sum(len(set(truth) - set(passes.get(p, []))) for p in full)
    doubled = sum(len(v) - len(set(v)) for v in passes.values())
    junk = sum(t not in truth for v in passes.values() for t in v)
    odd = [p for p in full if sorted(passes.get(p, [])) != truth]
    return {"passes": len(full), "events": len(events), "lost": lost, "doubled": doubled,
            "junk": junk, "odd_passes": [
                [{k: e[k] for k in ("id", "text", "first_seen", "last_seen", "frames",
                                    "candidates")}
                 for e in events if round((e["first_seen_s"] - t0) / PASS_S) == p]
                for p in odd]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--every", type=float, default=10.0, help="RSS sampling period, s")
    ap.add_argument("--warmup", type=float, default=60.0,
                    help="seconds left out of the RSS trend (models, first frames)")
    ap.add_argument("--out", type=Path, default=Path("out/watch_soak.json"))
    args = ap.parse_args()
    need("ffmpeg", "ffmpeg")
    truth = sorted(p["text"] for p in watch_clip.truth())
    with tempfile.TemporaryDirectory(prefix="edge-alpr-soak-") as tmp_name:
        tmp = Path(tmp_name)
        one = watch_clip.write_h264(tmp / "one.mkv")
        passes = int(args.minutes * 60 / PASS_S) + 2
        long = tmp / "long.mkv"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-stream_loop", str(passes - 1),
                        "-i", str(one), "-c", "copy", str(long)], check=True)
        rtsp = RtspServer(long, free_port())
        with contextlib.ExitStack() as stack:
            broker = stack.enter_context(mosquitto(tmp))
            hook = stack.enter_context(Receiver())
            config = tmp / "watch.toml"
            config.write_text(f'[[cameras]]\nname = "gate"\nsource = "{rtsp.url}"\nqueue = 4\n'
                              '[outputs.jsonl]\npath = "events.jsonl"\n'
                              '[outputs.reads_log]\npath = "reads.sqlite"\n'
                              f'[outputs.webhook]\nurl = "{hook.url}"\n'
                              f'[outputs.mqtt]\nport = {broker}\n')
            rtsp.start()
            stack.callback(rtsp.stop)
            page = free_port()
            proc = watch_process(config, "--http", f"127.0.0.1:{page}")
            stack.callback(stop, proc)
            start = time.monotonic()
            samples: list[tuple[float, float]] = []
            try:
                while time.monotonic() - start < args.minutes * 60 and proc.poll() is None:
                    time.sleep(args.every)
                    samples.append((time.monotonic() - start, rss_mib(proc.pid)))
                    print(f"{samples[-1][0]:7.0f} s  RSS {samples[-1][1]:6.1f} MiB", flush=True)
            except KeyboardInterrupt:
                pass
            with urllib.request.urlopen(f"http://127.0.0.1:{page}/api/status", timeout=10) as r:
                (camera,) = json.load(r)["cameras"]
            cpu = cpu_seconds(proc.pid) / (time.monotonic() - start)
            proc.send_signal(signal.SIGINT)
            code = proc.wait(60)
            status_log = (tmp / "watch.log").read_text()
            events = [json.loads(s) for s in (tmp / "events.jsonl").read_text().splitlines()]
            for e in events:
                e["first_seen_s"] = datetime.fromisoformat(
                    e["first_seen"].replace("Z", "+00:00")).timestamp()
            hook_ids = [b["id"] for b in hook.bodies]
        steady = [s for s in samples if s[0] >= args.warmup]
        result = {
            "minutes": round((samples[-1][0] if samples else 0) / 60, 1),
            "exit_code": code,
            "rss_mib": {"first_after_warmup": steady[0][1] if steady else None,
                        "last": samples[-1][1] if samples else None,
                        "min": min(v for _, v in steady) if steady else None,
                        "max": max(v for _, v in steady) if steady else None,
                        "slope_mib_per_hour": round(slope_per_hour(steady), 2)},
            "samples": len(samples),
            "cpu_cores_used": round(cpu, 3),  # CPU seconds per second, whole run
            **check_events(events, truth),
            "webhook_delivered": len(hook_ids),
            "webhook_same_as_events": hook_ids == [e["id"] for e in events],
            "camera": {k: camera[k] for k in ("frames", "frames_read", "dropped", "reconnects",
                                                "read_errors", "events")},
            "stream_losses": status_log.count("stream lost"),
            "tracebacks": status_log.count("Traceback"),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**result, "rss_samples": samples}, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
