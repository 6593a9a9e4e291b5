"""The service as a Ray Serve deployment: a local Ray on loopback, 2 replicas behind Ray's HTTP
proxy, the same endpoints and responses as the plain server."""

import json
from pathlib import Path

import pytest

pytest.importorskip("edge_alpr.service", reason='needs the serve extra: pip install -e ".[serve]"')
ray = pytest.importorskip("ray", reason='needs the ray extra: pip install -e ".[serve,ray]"')
requests = pytest.importorskip("requests", reason="needs requests (the dev extra)")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pydantic, inside ray

from ray import serve  # noqa: E402

from benchmarks.serve_load import free_port  # noqa: E402
from edge_alpr.service.app import ServiceConfig  # noqa: E402
from edge_alpr.service.ray_serve import DEPLOYMENT, application  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
JPEG = (REPO / "samples" / "scene.jpg").read_bytes()
TEXTS = sorted(t["text"] for t in json.loads(
    (REPO / "samples" / "scene.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def ray_url():
    port = free_port()
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             logging_level="WARNING", log_to_driver=False)
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(application(ServiceConfig(workers=1, queue=2), replicas=2), name=DEPLOYMENT,
                  route_prefix="/")
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        ray.shutdown()


def test_two_replicas_read_the_frame_and_both_answer(ray_url):
    seen = set()
    for _ in range(40):
        response = requests.post(ray_url + "/v1/vision/alpr", files={"upload": JPEG},
                                 timeout=60)
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(response.content)
        assert sorted(p["plate"] for p in response.json()["predictions"]) == TEXTS
        seen.add(response.headers["x-edge-alpr-instance"])
        if len(seen) == 2:
            break
    assert len(seen) == 2, f"only {seen} answered"


def test_same_endpoints_and_errors_through_the_proxy(ray_url):
    pr = requests.post(ray_url + "/v1/plate-reader", files={"upload": JPEG}, timeout=60)
    assert pr.status_code == 201
    assert sorted(r["plate"] for r in pr.json()["results"]) == [t.lower() for t in TEXTS]
    read = requests.post(ray_url + "/v1/read", data=JPEG, headers={
        "Content-Type": "image/jpeg"}, timeout=60)
    assert sorted(p["text"] for p in read.json()["plates"]) == TEXTS
    bad = requests.post(ray_url + "/v1/read", data=b"junk", headers={
        "Content-Type": "image/jpeg"}, timeout=60)
    assert bad.status_code == 400 and bad.json()["success"] is False
    assert requests.get(ray_url + "/nope", timeout=60).status_code == 404
