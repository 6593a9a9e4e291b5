"""The same app as a Ray Serve deployment: N replicas, each with its own reader and queue,
behind Ray's HTTP proxy. The ``ray`` extra (``pip install "edge-alpr[serve,ray]"``).

    edge-alpr serve --ray --replicas 2               # a local Ray, or --ray-address HOST:PORT
    serve run edge_alpr.service.ray_serve:app        # Ray's own CLI, default options
    serve run edge_alpr.service.ray_serve:build replicas=2 threads=1

A replica takes at most ``threads + queue`` requests at once (``max_ongoing_requests``); Ray's
proxy queues at most that many per replica more and answers 503 beyond, so memory stays
bounded on every node.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import asdict
from typing import Any

from .app import MIB, ServiceConfig, build_app

# Ray reports usage statistics to its makers unless told not to: the service talks to nobody
# but its clients and its own cluster. A value the caller set wins.
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

try:
    from ray import serve
except ImportError as e:
    raise ImportError('the Ray Serve deployment needs the ray extra: pip install '
                      f'"edge-alpr[serve,ray]" ({e.name} is missing)', name=e.name) from e

log = logging.getLogger(__name__)

DEPLOYMENT = "edge_alpr"


@serve.ingress()
class EdgeAlprIngress:
    """One replica: the plate-reading app over its own reader (models loaded once, on it)."""

    def __init__(self, config: dict[str, Any]) -> None:
        import ray

        # Named by node address and process, so that responses tell the replicas apart.
        instance = f"{ray.util.get_node_ip_address()}:{os.getpid()}"
        self.config = ServiceConfig(**{**config, "instance": config.get("instance") or instance})

    def __serve_build_asgi_app__(self) -> Any:
        return build_app(self.config)


def application(config: ServiceConfig, replicas: int = 1, cpus_per_replica: float = 1.0,
                replicas_per_node: int | None = None) -> Any:
    """The bound Serve application. ``replicas_per_node`` (e.g. 1) spreads replicas over
    the cluster's nodes."""
    admitted = config.workers + config.queue
    options: dict[str, Any] = {
        "name": DEPLOYMENT, "num_replicas": replicas,
        "ray_actor_options": {"num_cpus": cpus_per_replica},
        "max_ongoing_requests": admitted, "max_queued_requests": admitted * replicas,
    }
    if replicas_per_node is not None:
        options["max_replicas_per_node"] = replicas_per_node
    # A plain dict travels to the replicas (frozen dataclasses with mappings pickle too, but a
    # dict keeps the deployment's arguments readable in Ray's dashboard and logs).
    config_dict = {**asdict(config), "reader_options": dict(config.reader_options)}
    return serve.deployment(EdgeAlprIngress).options(**options).bind(config_dict)


def build(args: dict[str, str]) -> Any:
    """Application builder for ``serve run edge_alpr.service.ray_serve:build key=value ...``:
    replicas, threads, queue, max_body (MB), token, replicas_per_node."""
    known = {"replicas", "threads", "queue", "max_body", "token", "replicas_per_node"}
    unknown = set(args) - known
    if unknown:
        raise ValueError(f"unknown argument(s) {sorted(unknown)}; known: {sorted(known)}")
    config = ServiceConfig(
        workers=int(args.get("threads", 2)), queue=int(args.get("queue", 8)),
        max_body=round(float(args.get("max_body", 10)) * MIB), token=args.get("token"))
    per_node = args.get("replicas_per_node")
    return application(config, int(args.get("replicas", 1)),
                       replicas_per_node=int(per_node) if per_node else None)


app = build({})


def run_ray(config: ServiceConfig, host: str = "127.0.0.1", port: int = 8080,
            replicas: int = 1, address: str | None = None) -> None:
    """``edge-alpr serve --ray``: join (or start) a Ray cluster, deploy, serve until Ctrl-C."""
    import ray

    # SIGTERM (systemd, kill) ends the service like Ctrl-C: the deployment is deleted and a
    # Ray started here is shut down with it, rather than left running without its driver.
    signal.signal(signal.SIGTERM, _interrupt)
    ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
    try:
        serve.start(http_options={"host": host, "port": port})
        serve.run(application(config, replicas), name=DEPLOYMENT, route_prefix="/",
                  blocking=True)
    except KeyboardInterrupt:
        pass
    finally:
        serve.shutdown()
        ray.shutdown()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
