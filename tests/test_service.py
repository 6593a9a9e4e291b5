"""The HTTP service, served by real uvicorn on a free loopback port and called with ``requests``
as the ALPR integrations call it, on the bundled sample frame (true plates in scene.json)."""

import base64
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("edge_alpr.service", reason='needs the serve extra: pip install -e ".[serve]"')
requests = pytest.importorskip("requests", reason="needs requests (the dev extra)")

import uvicorn  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from edge_alpr import PlateReader  # noqa: E402
from edge_alpr.geometry import Box  # noqa: E402
from edge_alpr.service.app import ServiceConfig, build_app  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "scene.jpg"
JPEG = SAMPLE.read_bytes()
TRUTH = json.loads((REPO / "samples" / "scene.json").read_text(encoding="utf-8"))
TEXTS = sorted(t["text"] for t in TRUTH)
TOKEN = "s3cret-token"
CPAI_ROUTES = ["/v1/vision/alpr", "/v1/vision/alpr/", "/v1/image/alpr"]
PR_ROUTES = ["/v1/plate-reader/", "/v1/plate-reader"]


@contextmanager
def running(app):
    """Real uvicorn on a socket bound to a free loopback port; yields the base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def reader():
    return PlateReader(threads=1, min_chars=0)


@pytest.fixture(scope="module")
def url(reader):
    with running(build_app(ServiceConfig(workers=2, queue=4, max_body=1 << 20), reader)) as u:
        yield u


@pytest.fixture(scope="module")
def token_url(reader):
    config = ServiceConfig(workers=1, queue=1, max_body=200_000, token=TOKEN)
    with running(build_app(config, reader)) as u:
        yield u


def checked(response):
    """Every response: a Content-Length, never chunked, JSON errors without a traceback."""
    assert "content-length" in response.headers
    assert int(response.headers["content-length"]) == len(response.content)
    assert "chunked" not in response.headers.get("transfer-encoding", "")
    if response.status_code >= 400:
        body = response.json()
        assert body["success"] is False and body["code"] == response.status_code
        assert body["error"] and "Traceback" not in response.text
    return response


def assert_sample_plates(boxes_and_texts):
    """(box [x0, y0, x1, y1], text) pairs are the sample's true plates, boxes on them."""
    assert sorted(t for _, t in boxes_and_texts) == TEXTS
    for box, text in boxes_and_texts:
        truth = next(t for t in TRUTH if t["text"] == text)
        assert Box(*box).iou(Box(*truth["box"])) >= 0.5


# -- POST /v1/read --------------------------------------------------------------------------


@pytest.mark.parametrize("send", [
    pytest.param(lambda u: requests.post(f"{u}/v1/read", files={"upload": (
        "scene.jpg", JPEG, "image/jpeg")}), id="multipart-upload"),
    pytest.param(lambda u: requests.post(f"{u}/v1/read", files={"frame": JPEG}),
                 id="multipart-other-name"),
    pytest.param(lambda u: requests.post(f"{u}/v1/read", data=JPEG, headers={
        "Content-Type": "image/jpeg"}), id="raw-body"),
])
def test_read_gives_the_cli_record_with_the_sample_plates(url, reader, send):
    record = checked(send(url)).json()
    expected = [p.to_dict() for p in reader.read(SAMPLE)]  # what read(path) reads
    assert (record["width"], record["height"]) == (1920, 1080)
    assert record["plates"] == expected  # the one plate schema, PlateResult.to_dict
    assert_sample_plates([(p["box"], p["text"]) for p in record["plates"]])
    assert set(record) == {"image", "width", "height", "plates", "ms"} and record["ms"] > 0


def test_read_accepts_the_options_it_was_started_with(url):
    response = checked(requests.post(f"{url}/v1/read?threads=1&min_chars=5", data=JPEG,
                                     headers={"Content-Type": "image/jpeg"}))
    assert sorted(p["text"] for p in response.json()["plates"]) == TEXTS


def test_read_min_chars_filters_per_request(url):
    huge = checked(requests.post(f"{url}/v1/read?min_chars=8", data=JPEG,
                                 headers={"Content-Type": "image/jpeg"})).json()
    assert huge["plates"] == []
    every = checked(requests.post(f"{url}/v1/read?min_chars=0", data=JPEG,
                                  headers={"Content-Type": "image/jpeg"})).json()
    assert TEXTS == sorted(p["text"] for p in every["plates"] if len(p["text"]) >= 5)


@pytest.mark.parametrize("query, problem", [
    ("min_chars=-1", "min_chars"), ("min_chars=x", "min_chars"),
    ("lean=True", "started with"), ("threads=2", "started with threads=1"),
    ("bogus=1", "unknown query parameter"),
])
def test_read_bad_query_is_400_naming_it(url, query, problem):
    response = checked(requests.post(f"{url}/v1/read?{query}", data=JPEG,
                                     headers={"Content-Type": "image/jpeg"}))
    assert response.status_code == 400 and problem in response.json()["error"]


# -- CodeProject.AI ---------------------------------------------------------------------------

CPAI_KEYS = {"success", "predictions", "count", "message", "processMs", "inferenceMs",
             "moduleId", "moduleName", "code", "command", "requestId", "inferenceDevice",
             "analysisRoundTripMs"}
CPAI_PREDICTION_KEYS = {"confidence", "label", "plate", "x_min", "y_min", "x_max", "y_max"}
CPAI_FORMS = {
    # requests with bytes: the field name as file name, no content type (frigate_plate_recognizer)
    "upload-bare": lambda: {"files": {"upload": JPEG}},
    "image-typed": lambda: {"files": {"image": ("image.jpg", JPEG, "image/jpeg")}},
    "other-name": lambda: {"files": {"file": ("cam.jpg", JPEG)}},
    "with-min-confidence": lambda: {"files": {"upload": JPEG}, "data": {"min_confidence": "0.4"}},
}


@pytest.mark.parametrize("route", CPAI_ROUTES)
@pytest.mark.parametrize("form", sorted(CPAI_FORMS))
def test_codeproject_response_field_by_field(url, route, form):
    response = checked(requests.post(url + route, **CPAI_FORMS[form]()))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == CPAI_KEYS
    assert body["success"] is True and body["code"] == 200
    assert (body["moduleId"], body["moduleName"], body["command"]) == (
        "ALPR", "License Plate Reader", "alpr")
    assert body["inferenceDevice"] == "CPU" and body["requestId"]
    for key in ("processMs", "inferenceMs", "analysisRoundTripMs"):
        assert isinstance(body[key], int) and body[key] >= 0
    assert body["processMs"] >= body["inferenceMs"]
    assert body["count"] == len(body["predictions"]) == len(TRUTH)
    for p in body["predictions"]:
        assert set(p) == CPAI_PREDICTION_KEYS
        assert p["label"] == f"Plate: {p['plate']}" and 0 < p["confidence"] <= 1
        assert all(isinstance(p[k], int) for k in ("x_min", "y_min", "x_max", "y_max"))
    assert_sample_plates([([p["x_min"], p["y_min"], p["x_max"], p["y_max"]], p["plate"])
                          for p in body["predictions"]])
    assert body["message"] == "Found " + ", ".join(p["label"] for p in body["predictions"])


def test_codeproject_min_confidence_drops_less_sure_plates(url):
    body = checked(requests.post(url + "/v1/vision/alpr", files={"upload": JPEG})).json()
    cut = (body["predictions"][0]["confidence"] + body["predictions"][1]["confidence"]) / 2
    kept = checked(requests.post(url + "/v1/vision/alpr", files={"upload": JPEG},
                                 data={"min_confidence": str(cut)})).json()
    assert [p["plate"] for p in kept["predictions"]] == [
        p["plate"] for p in body["predictions"] if p["confidence"] >= cut]
    assert kept["count"] == 1


@pytest.mark.parametrize("kwargs, problem", [
    ({"data": {"min_confidence": "0.5"}}, "no image"),
    ({"files": {"upload": JPEG}, "data": {"min_confidence": "high"}}, "min_confidence"),
    ({"files": {"upload": JPEG[: len(JPEG) // 3]}}, "not a decodable image"),
])
def test_codeproject_failures_are_success_false(url, kwargs, problem):
    response = checked(requests.post(url + "/v1/vision/alpr", **kwargs))
    assert response.status_code == 400 and problem in response.json()["error"]


# -- Plate Recognizer -------------------------------------------------------------------------

PR_KEYS = {"processing_time", "results", "filename", "version", "camera_id", "timestamp",
           "usage"}
PR_RESULT_KEYS = {"box", "plate", "region", "score", "candidates", "dscore", "vehicle"}
B64 = base64.b64encode(JPEG).decode()
PR_FIELDS = {"regions": ["mn", "ru"], "camera_id": "gate-1", "mmc": "false",
             "timestamp": "2026-11-26T20:15:00+08:00", "config": '{"mode": "fast"}'}
PR_FORMS = {
    # plate_recognition.py / frigate_plate_recognizer: a file part and form fields
    "multipart-file": lambda: {"files": {"upload": ("car.jpg", JPEG)}, "data": PR_FIELDS},
    # node-red-contrib-plate-recognizer: base64 in a multipart text part
    "multipart-base64": lambda: {"files": {"upload": (None, B64), **{
        k: (None, v) for k, v in PR_FIELDS.items() if k != "regions"}}},
    # url-encoded form, base64 upload (a data URL prefix is tolerated)
    "urlencoded-base64": lambda: {"data": {"upload": "data:image/jpeg;base64," + B64,
                                           **PR_FIELDS}},
}


@pytest.mark.parametrize("route", PR_ROUTES)
@pytest.mark.parametrize("form", sorted(PR_FORMS))
def test_plate_recognizer_response_field_by_field(token_url, route, form):
    headers = {"Authorization": f"Token {TOKEN}"}
    first = checked(requests.post(token_url + route, headers=headers, **PR_FORMS[form]()))
    assert first.status_code == 201, first.text
    body = first.json()
    assert set(body) == PR_KEYS
    assert body["version"] == 1 and body["camera_id"] == "gate-1"
    assert body["timestamp"] == "2026-11-26T12:15:00.000000Z"  # +08:00 given, UTC back
    assert body["filename"] == ("car.jpg" if form == "multipart-file" else None)
    assert isinstance(body["processing_time"], float) and body["processing_time"] > 0
    assert set(body["usage"]) == {"calls", "max_calls"}
    assert body["usage"]["calls"] < body["usage"]["max_calls"]
    assert len(body["results"]) == len(TRUTH)
    for r in body["results"]:
        assert set(r) == PR_RESULT_KEYS
        assert r["plate"] == r["plate"].lower() and r["region"] == {"code": "mn", "score": 1.0}
        assert 0 < r["score"] <= 1 and 0 < r["dscore"] <= 1
        assert r["candidates"][0] == {"score": r["score"], "plate": r["plate"]}
        assert set(r["vehicle"]) == {"score", "type", "box"} and r["vehicle"]["score"] == 0
        assert set(r["box"]) == {"xmin", "ymin", "xmax", "ymax"}
    truth_lower = {t["text"].lower(): t["text"] for t in TRUTH}
    assert_sample_plates([([r["box"][k] for k in ("xmin", "ymin", "xmax", "ymax")],
                           truth_lower[r["plate"]]) for r in body["results"]])
    again = checked(requests.post(token_url + route, headers=headers, **PR_FORMS[form]()))
    assert again.json()["usage"]["calls"] == body["usage"]["calls"] + 1


def test_plate_recognizer_without_timestamp_answers_now(url):
    before = time.time()
    body = checked(requests.post(url + "/v1/plate-reader/", files={"upload": JPEG})).json()
    stamp = body["timestamp"]
    assert stamp.endswith("Z")
    from datetime import datetime
    seconds = datetime.fromisoformat(stamp[:-1] + "+00:00").timestamp()
    assert before - 1 <= seconds <= time.time() + 1 and body["camera_id"] is None


@pytest.mark.parametrize("kwargs, problem", [
    ({"data": {"upload_url": "http://198.51.100.7/car.jpg"}}, "upload_url is not supported"),
    ({"data": {"regions": "mn"}}, "upload: required"),
    ({"data": {"upload": "not base64 at all!"}}, "neither a file part nor base64"),
    ({"data": {"upload": base64.b64encode(b"GIF89a but not really").decode()}},
     "not a decodable image"),
    ({"files": {"upload": JPEG}, "data": {"timestamp": "yesterday"}}, "timestamp"),
    ({"files": {"upload": JPEG}, "data": {"config": "{mode: fast"}}, "config: not JSON"),
    ({"files": {"upload": JPEG}, "data": {"config": '{"threshold_d": 7}'}}, "threshold_d"),
    ({"files": {"upload": JPEG}, "data": {"mmc": "maybe"}}, "mmc"),
])
def test_plate_recognizer_bad_requests_are_400_naming_the_problem(url, kwargs, problem):
    response = checked(requests.post(url + "/v1/plate-reader/", **kwargs))
    assert response.status_code == 400 and problem in response.json()["error"]


def test_plate_recognizer_config_thresholds_filter_results(url):
    body = checked(requests.post(url + "/v1/plate-reader/", files={"upload": JPEG}, data={
        "config": json.dumps({"threshold_d": 0.99})})).json()
    assert body["results"] == []


# -- errors, token, queue ---------------------------------------------------------------------


def _corrupt():
    return np.random.default_rng(0).bytes(5000)


@pytest.mark.parametrize("method, path, kwargs, status, problem", [
    ("post", "/v1/read", {"data": _corrupt(), "headers": {"Content-Type": "image/jpeg"}}, 400,
     "not a decodable image"),
    ("post", "/v1/read", {"files": {"upload": ("cut.jpg", JPEG[: len(JPEG) // 3])}}, 400,
     "cut.jpg: not a decodable image"),
    ("post", "/v1/read", {"files": {"upload": ("notes.txt", b"not an image")}}, 400,
     "notes.txt: not a decodable image"),
    ("post", "/v1/read", {"files": {"upload": ("empty.jpg", b"")}}, 400, "empty file"),
    ("post", "/v1/read", {"data": "hello", "headers": {"Content-Type": "text/plain"}}, 415,
     "text/plain"),
    ("post", "/v1/read", {"data": b"--x\r\nbroken", "headers": {
        "Content-Type": "multipart/form-data; boundary=x"}}, 400, "no image"),
    ("post", "/v1/read", {"data": b"\0" * ((1 << 20) + 1), "headers": {
        "Content-Type": "image/jpeg"}}, 413, "over the limit"),
    ("post", "/v1/nothing-here", {}, 404, "Not Found"),
    ("get", "/v1/read", {}, 405, "Method Not Allowed"),
    ("get", "/v1/vision/alpr", {}, 405, "Method Not Allowed"),
    ("delete", "/healthz", {}, 405, "Method Not Allowed"),
])
def test_errors_have_their_status_and_a_json_body(url, method, path, kwargs, status, problem):
    response = checked(getattr(requests, method)(url + path, **kwargs))
    assert response.status_code == status and problem in response.json()["error"]
    if status == 405:
        assert response.headers["allow"]


def test_a_chunked_body_over_the_limit_is_413(url):
    def chunks():  # no Content-Length: the limit is enforced as the body streams in
        for _ in range(40):
            yield b"\0" * 65536

    response = checked(requests.post(url + "/v1/read", data=chunks(),
                                     headers={"Content-Type": "image/jpeg"}))
    assert response.status_code == 413


@pytest.mark.parametrize("headers, status", [
    ({}, 401), ({"Authorization": "Token wrong"}, 401), ({"Authorization": TOKEN}, 401),
    ({"Authorization": f"Token {TOKEN}"}, 200), ({"Authorization": f"Bearer {TOKEN}"}, 200),
])
def test_token(token_url, headers, status):
    response = checked(requests.post(token_url + "/v1/vision/alpr", files={"upload": JPEG},
                                     headers=headers))
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"] == "Token"
    assert checked(requests.get(token_url + "/healthz")).status_code == 200  # always open


def test_body_limit_is_checked_before_the_token_is_needed(token_url):
    response = checked(requests.post(token_url + "/v1/read", data=b"\0" * 300_000, headers={
        "Content-Type": "image/jpeg", "Authorization": f"Token {TOKEN}"}))
    assert response.status_code == 413


class GatedReader(PlateReader):
    """The real reader, held at the gate until the test opens it: reads stay in progress."""

    def __init__(self, reader):
        self.__dict__.update(reader.__dict__)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def read(self, image, source=None, clock=None):
        self.entered.set()
        assert self.gate.wait(30)
        return super().read(image, source, clock)


def test_a_full_queue_answers_503_with_retry_after(reader):
    gated = GatedReader(reader)
    with running(build_app(ServiceConfig(workers=1, queue=1), gated)) as base:
        post = lambda: requests.post(base + "/v1/vision/alpr", files={"upload": JPEG})  # noqa: E731
        with ThreadPoolExecutor(6) as pool:
            first = pool.submit(post)
            assert gated.entered.wait(30)  # one read in progress: the worker is busy
            second = pool.submit(post)  # takes the one queue place
            deadline = time.monotonic() + 10
            while not _metric(base, "edge_alpr_queue_depth"):
                assert time.monotonic() < deadline
                time.sleep(0.02)
            refused = [pool.submit(post) for _ in range(4)]
            refused = [checked(f.result(30)) for f in refused]
            gated.gate.set()
            served = [checked(first.result(30)), checked(second.result(30))]
    assert [r.status_code for r in refused] == [503] * 4
    assert all(r.headers["retry-after"] == "1" and "busy" in r.json()["error"]
               for r in refused)
    assert [r.status_code for r in served] == [200, 200]
    assert all(sorted(p["plate"] for p in r.json()["predictions"]) == TEXTS for r in served)


def _metric(base, name, **labels):
    text = requests.get(base + "/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v
                                           for k, v in labels.items()):
                return sample.value
    return None


# -- health and metrics -----------------------------------------------------------------------


def test_healthz_names_the_loaded_models_and_providers(url, reader):
    body = checked(requests.get(url + "/healthz")).json()
    assert body["status"] == "ok" and body["providers"] == ["CPUExecutionProvider"]
    assert set(body["models"]) == {m.path.name for m in reader.models.values()}
    assert len(body["models"]) == 4  # detector, plate check, whole-plate and character models
    assert body["threads"] == 2 and body["queue"]["capacity"] == 4
    assert requests.get(url + "/healthz").headers["x-edge-alpr-instance"] == body["instance"]


def test_metrics_count_requests_reads_and_plates(reader):
    with running(build_app(ServiceConfig(), reader)) as base:
        for _ in range(3):
            requests.post(base + "/v1/read", data=JPEG, headers={"Content-Type": "image/jpeg"})
        requests.post(base + "/v1/image/alpr", files={"image": JPEG})
        requests.post(base + "/v1/read", data=b"junk", headers={"Content-Type": "image/png"})
        requests.get(base + "/nope/1")
        requests.get(base + "/nope/2")
        response = checked(requests.get(base + "/metrics"))
        assert response.headers["content-type"].startswith("text/plain")
        count = lambda **labels: _metric(base, "edge_alpr_requests_total", **labels)  # noqa: E731
        assert count(endpoint="/v1/read", method="POST", status="200") == 3
        assert count(endpoint="/v1/read", method="POST", status="400") == 1
        assert count(endpoint="/v1/image/alpr", method="POST", status="200") == 1
        assert count(endpoint="unmatched", method="GET", status="404") == 2  # one label
        assert _metric(base, "edge_alpr_plates_read_total") == 4 * len(TRUTH)
        assert _metric(base, "edge_alpr_read_seconds_count") == 4  # junk is no read
        assert _metric(base, "edge_alpr_queue_depth") == 0
        assert _metric(base, "edge_alpr_queue_capacity") == 10


# -- the command and the lean install ---------------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_edge_alpr_serve_command_serves_on_loopback_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "edge_alpr.cli", "serve", "--port",
                             str(port), "--threads", "1", "--token", TOKEN], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "edge-alpr serve did not start"
                time.sleep(0.2)
        assert health.json()["threads"] == 1
        read = requests.post(f"http://127.0.0.1:{port}/v1/plate-reader/",
                             files={"upload": JPEG}, headers={"Authorization": f"Token {TOKEN}"})
        assert sorted(r["plate"] for r in read.json()["results"]) == [t.lower() for t in TEXTS]
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True,
                                   text=True)
        if listening.returncode == 0:
            assert f"127.0.0.1:{port}" in listening.stdout
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    # uvicorn shuts down, then re-raises the signal: exit by SIGTERM, as systemd expects.
    assert proc.returncode in (0, -signal.SIGTERM), err
    assert "Traceback" not in err


def test_the_core_cli_does_not_import_the_http_stack():
    code = ("import sys, edge_alpr.cli, edge_alpr.pipeline; "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'ray', 'prometheus_client') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_without_the_serve_extra_the_command_says_what_to_install():
    code = ("import sys; sys.modules['starlette'] = None; "
            "from edge_alpr.cli import app; app(['serve'])")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 1
    assert 'pip install "edge-alpr[serve]"' in run.stderr and "starlette" in run.stderr
