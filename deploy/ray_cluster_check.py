"""Deploy edge-alpr on a running Ray cluster with one replica per node, send frames to every
node's HTTP proxy, and check that replicas on every node answered with the right plates.

    python deploy/ray_cluster_check.py --address HEAD_IP:6379 --proxy http://IP1:8000 \\
        --proxy http://IP2:8000 [--requests 20]

Run by deploy/ray_two_nodes.sh inside the head node's network namespace; on real boxes, run it
on any machine of the cluster. Prints one JSON line per request and a summary; exits 1 if a
node's replica never answered or a response was wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import ray  # noqa: E402
import requests  # noqa: E402
from ray import serve  # noqa: E402

from edge_alpr.service.app import ServiceConfig  # noqa: E402
from edge_alpr.service.ray_serve import DEPLOYMENT, application  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", required=True, help="the Ray head, HOST:PORT")
    parser.add_argument("--proxy", action="append", required=True,
                        help="a node's Serve HTTP proxy, http://HOST:PORT (repeat per node)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--requests", type=int, default=20, help="per proxy")
    args = parser.parse_args()
    ray.init(address=args.address, logging_level="WARNING", log_to_driver=False)
    nodes = [n for n in ray.nodes() if n["Alive"]]
    print(json.dumps({"nodes": sorted(n["NodeManagerAddress"] for n in nodes)}))
    serve.start(http_options={"host": "0.0.0.0", "port": args.port})
    serve.run(application(ServiceConfig(workers=1, queue=4), replicas=len(nodes),
                          replicas_per_node=1), name=DEPLOYMENT, route_prefix="/")
    jpeg = (SAMPLES / "scene.jpg").read_bytes()
    truth = sorted(t["text"] for t in json.loads((SAMPLES / "scene.json").read_text("utf-8")))
    answered: Counter[str] = Counter()
    wrong = 0
    for proxy in args.proxy:
        for _ in range(args.requests):
            t0 = time.perf_counter()
            r = requests.post(proxy + "/v1/vision/alpr", files={"upload": jpeg}, timeout=60)
            plates = sorted(p["plate"] for p in r.json().get("predictions", []))
            instance = r.headers.get("x-edge-alpr-instance", "?")
            answered[instance] += 1
            wrong += r.status_code != 200 or plates != truth
            print(json.dumps({"proxy": proxy, "status": r.status_code, "instance": instance,
                              "plates": plates, "ms": round((time.perf_counter() - t0) * 1e3)},
                             ensure_ascii=False))
    replica_nodes = {i.split(":")[0] for i in answered}
    node_ips = {n["NodeManagerAddress"] for n in nodes}
    ok = not wrong and replica_nodes == node_ips
    print(json.dumps({"answered_by": dict(answered), "nodes_answering": sorted(replica_nodes),
                      "wrong": wrong, "ok": ok}))
    serve.delete(DEPLOYMENT)
    serve.shutdown()
    ray.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
