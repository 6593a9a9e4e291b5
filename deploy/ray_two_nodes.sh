#!/usr/bin/env bash
# A real two-node Ray cluster on this one machine: a Ray head and a Ray worker in two network
# namespaces joined by a veth pair (Debian's iproute2), the edge-alpr Ray Serve deployment with
# one replica on each node, and requests sent to each node's HTTP proxy (deploy/ray_cluster_check.py).
#
#   deploy/ray_two_nodes.sh            # as root, from the checkout, its venv active (serve,ray extras)
#
# Nothing leaves the two namespaces: they have no route but the veth between them. Everything
# the script creates (namespaces, veth, the two Ray nodes, their temp dirs) is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python)}
RAY="$(dirname "$PYTHON")/ray"
HEAD_NS=ealpr-head WORKER_NS=ealpr-worker
HEAD_IP=10.77.0.1 WORKER_IP=10.77.0.2
GCS_PORT=6379 SERVE_PORT=8000
TMP=$(mktemp -d /tmp/ealpr-ray.XXXXXX)
export RAY_USAGE_STATS_ENABLED=0 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# Ray's token authentication: one fresh token, known to both nodes and the driver (on real
# boxes, distribute it as a secret).
export RAY_AUTH_MODE=token
RAY_AUTH_TOKEN=$("$PYTHON" -c 'import secrets; print(secrets.token_hex(32))')
export RAY_AUTH_TOKEN
HEAD_PID="" WORKER_PID=""

cleanup() {
    set +e
    # `ray start --block` stops the Ray processes it started when it is terminated; `ray stop`
    # would stop every Ray process on the machine, other people's included.
    for pid in $WORKER_PID $HEAD_PID; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    ip netns del "$WORKER_NS" 2>/dev/null
    ip netns del "$HEAD_NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

echo "== network: $HEAD_NS ($HEAD_IP) <-veth-> $WORKER_NS ($WORKER_IP)"
ip netns add "$HEAD_NS"
ip netns add "$WORKER_NS"
ip link add ealpr-h type veth peer name ealpr-w
ip link set ealpr-h netns "$HEAD_NS"
ip link set ealpr-w netns "$WORKER_NS"
ip -n "$HEAD_NS" addr add "$HEAD_IP/24" dev ealpr-h
ip -n "$WORKER_NS" addr add "$WORKER_IP/24" dev ealpr-w
for ns in "$HEAD_NS" "$WORKER_NS"; do
    ip -n "$ns" link set lo up
done
ip -n "$HEAD_NS" link set ealpr-h up
ip -n "$WORKER_NS" link set ealpr-w up
ip -n "$HEAD_NS" route get "$WORKER_IP" | head -1

echo "== Ray head in $HEAD_NS, worker in $WORKER_NS (1 CPU each)"
ip netns exec "$HEAD_NS" "$RAY" start --head --block --node-ip-address "$HEAD_IP" \
    --port "$GCS_PORT" --num-cpus 1 --include-dashboard false --disable-usage-stats \
    --object-store-memory 200000000 --temp-dir "$TMP/head" >"$TMP/head.log" 2>&1 &
HEAD_PID=$!
for _ in $(seq 60); do
    timeout 20 ip netns exec "$HEAD_NS" "$RAY" status --address "$HEAD_IP:$GCS_PORT" \
        >/dev/null 2>&1 && break
    sleep 1
done
ip netns exec "$WORKER_NS" "$RAY" start --block --address "$HEAD_IP:$GCS_PORT" \
    --node-ip-address "$WORKER_IP" --num-cpus 1 --disable-usage-stats \
    --object-store-memory 200000000 >"$TMP/worker.log" 2>&1 &
WORKER_PID=$!
for _ in $(seq 60); do
    nodes=$(timeout 20 ip netns exec "$HEAD_NS" "$RAY" status --address "$HEAD_IP:$GCS_PORT" \
            2>/dev/null | grep -c '^ *1 node_' || true)
    [ "$nodes" -ge 2 ] && break
    sleep 1
done
timeout 20 ip netns exec "$HEAD_NS" "$RAY" status --address "$HEAD_IP:$GCS_PORT" \
    | sed -n '/Node status/,/Pending/p'

echo "== edge-alpr on Ray Serve, one replica per node; frames to both nodes' proxies"
timeout 300 ip netns exec "$HEAD_NS" "$PYTHON" deploy/ray_cluster_check.py --address "$HEAD_IP:$GCS_PORT" \
    --port "$SERVE_PORT" --proxy "http://$HEAD_IP:$SERVE_PORT" \
    --proxy "http://$WORKER_IP:$SERVE_PORT" --requests "${REQUESTS:-10}"
