"""`edge-alpr watch` against real services on loopback: the approach clip served as an RTSP
stream (GStreamer's RTSP server), a mosquitto broker, a webhook receiver; the stream is
killed mid-run and comes back. Then the page, in headless Chromium."""

import json
import signal
import sqlite3
import time

import cv2
import pytest

from benchmarks import watch_clip
from edge_alpr.geometry import Box
from edge_alpr.watch.events import CROP_MARGIN
from tests.watch_services import (
    Browser,
    Receiver,
    RtspServer,
    chromium_binary,
    free_port,
    mosquitto,
    need,
    need_gst_rtsp,
    stop,
    wait_until,
    watch_process,
)

mqtt = pytest.importorskip("paho.mqtt.client")  # the watch extra

TRUTH = sorted(p["text"] for p in watch_clip.truth())


def events_of(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class Subscriber:
    """Every message on the broker, retained ones included, with its QoS and retain flag."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, bytes, int, bool]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-sub")
        self.client.on_message = lambda c, u, m: self.messages.append(
            (m.topic, m.payload, m.qos, bool(m.retain)))
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe("#", qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def on(self, topic: str) -> list[tuple[bytes, int, bool]]:
        return [(p, q, r) for t, p, q, r in self.messages if t == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def h264_clip(tmp_path_factory):
    need("ffmpeg", "ffmpeg")
    return watch_clip.write_h264(tmp_path_factory.mktemp("rtsp") / "approach.mkv", repeat=2)


def test_watch_rtsp_to_mqtt_webhook_reads_log_and_reconnect(h264_clip, tmp_path):
    need_gst_rtsp()
    (tmp_path / "list.csv").write_text("plate,label,list\n4253YБГ,staff car,allow\n",
                                       encoding="utf-8")
    rtsp = RtspServer(h264_clip, free_port())
    with mosquitto(tmp_path) as broker, Receiver(fail_first=1) as hook:
        config = tmp_path / "watch.toml"
        config.write_text(f"""
[[cameras]]
name = "gate"
source = "{rtsp.url}"
[watchlist]
path = "list.csv"
[outputs.jsonl]
path = "events.jsonl"
[outputs.reads_log]
path = "reads.sqlite"
[outputs.webhook]
url = "{hook.url}"
[outputs.mqtt]
port = {broker}
""")
        sub = Subscriber(broker)
        rtsp.start()
        proc = watch_process(config)
        try:
            jsonl = tmp_path / "events.jsonl"
            # First pass of the clip: one event per plate.
            wait_until(lambda: len(events_of(jsonl)) >= 2, 60, "the first pass's events")
            # Kill the stream mid-run (the second pass is about to come) ...
            rtsp.kill()
            log = tmp_path / "watch.log"
            wait_until(lambda: "stream lost" in log.read_text(), 20, "the stream loss")
            time.sleep(1.5)
            assert len(events_of(jsonl)) == 2  # no event from a dead stream
            # ... and bring it back: the watch reopens it by itself.
            rtsp.start()
            wait_until(lambda: "reconnected" in log.read_text(), 40, "the reconnect")
            wait_until(lambda: len(events_of(jsonl)) >= 4, 60, "the events after reconnecting")
            time.sleep(0.3)  # stop well before the next pass's plates come (~2 s)
        finally:
            proc.send_signal(signal.SIGINT)
            code = proc.wait(30)
            rtsp.stop()
            time.sleep(0.5)  # the last MQTT messages
            sub.close()
        assert code == 0, (tmp_path / "watch.log").read_text()
        log = (tmp_path / "watch.log").read_text()
        assert "Traceback" not in log

    events = events_of(tmp_path / "events.jsonl")
    # One event per plate and pass, with the right texts, no junk.
    assert sorted(e["text"] for e in events[:2]) == TRUTH
    assert sorted(e["text"] for e in events[2:]) == TRUTH
    assert len(events) == 4 and len({e["id"] for e in events}) == 4
    by_text = {e["text"]: e for e in events}
    assert by_text["4253УБГ"]["watchlist"] == {"plate": "4253YБГ", "label": "staff car",
                                              "list": "allow", "distance": 0, "exact": False}
    assert by_text["9081ХӨР"]["watchlist"] is None
    for e in events:
        assert e["camera"] == "gate" and e["direction"] == "approaching"
        assert e["first_seen"].endswith("Z") and e["first_seen"] < e["last_seen"]
        crop, frame = cv2.imread(e["crop"]), cv2.imread(e["frame"])
        # the box and its margins, cut off where they pass the frame's edge
        # (to the pixel: the event's box is rounded to 0.1 px, the crop was cut unrounded)
        x0, y0, x1, y1 = Box(*e["read"]["box"]).pad(CROP_MARGIN).clamp(*watch_clip.SIZE).to_int()
        assert crop is not None
        assert max(abs(crop.shape[0] - (y1 - y0)), abs(crop.shape[1] - (x1 - x0))) <= 1
        assert frame.shape[:2] == (watch_clip.SIZE[1], watch_clip.SIZE[0])

    # Webhook: every event's JSON, the first attempt answered 503 and retried.
    assert [b["id"] for b in hook.bodies] == [e["id"] for e in events]
    assert hook.bodies == events and hook.requests == 5

    # MQTT: events per camera (QoS 1), the last plate retained, availability, discovery.
    mq_events = [json.loads(p) for p, q, _ in sub.on("edge-alpr/gate/event") if q == 1]
    assert [e["id"] for e in mq_events] == [e["id"] for e in events]
    plates = sub.on("edge-alpr/gate/plate")
    assert [p.decode() for p, _, _ in plates] == [e["text"] for e in events]
    assert all(q == 1 for _, q, _ in plates)
    assert [p for p, _, _ in sub.on("edge-alpr/status")][-1] == b"offline"  # at the stop
    assert b"online" in [p for p, _, _ in sub.on("edge-alpr/status")]
    camera_states = [p for p, _, _ in sub.on("edge-alpr/gate/status")]
    assert camera_states.count(b"online") >= 2 and b"offline" in camera_states  # the drop
    configs = sub.on("homeassistant/sensor/edge-alpr/gate_plate/config")
    assert configs and all(q == 1 for _, q, _ in configs)
    discovery = json.loads(configs[-1][0])
    assert discovery["state_topic"] == "edge-alpr/gate/plate"
    assert discovery["json_attributes_topic"] == "edge-alpr/gate/event"
    assert {a["topic"] for a in discovery["availability"]} == {"edge-alpr/status",
                                                               "edge-alpr/gate/status"}
    assert discovery["unique_id"] == "edge-alpr_gate_plate" and discovery["device"]["identifiers"]

    # Reads log: the same events, one row each.
    db = sqlite3.connect(tmp_path / "reads.sqlite")
    rows = db.execute("SELECT id, plate, camera, list FROM events ORDER BY rowid").fetchall()
    assert rows == [(e["id"], e["text"], "gate", (e["watchlist"] or {}).get("list"))
                    for e in events]
    assert {"events_plate_time", "events_time"} <= {
        r[1] for r in db.execute("PRAGMA index_list(events)")}


def test_the_page_finds_a_plate_in_a_real_browser(tmp_path, request):
    chromium_binary()
    pytest.importorskip("websockets")
    pytest.importorskip("uvicorn")
    clip = tmp_path / "approach.avi"
    w, h = watch_clip.SIZE
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), watch_clip.FPS, (w, h))
    for f in watch_clip.frames():
        writer.write(f)
    writer.release()
    (tmp_path / "list.csv").write_text("plate,label,list\n9081XOP,reported stolen,alert\n",
                                       encoding="utf-8")
    port = free_port()
    config = tmp_path / "watch.toml"
    config.write_text(f'[[cameras]]\nname = "gate"\nsource = "{clip}"\n'
                      '[watchlist]\npath = "list.csv"\n'
                      '[outputs.reads_log]\npath = "reads.sqlite"\n')
    proc = watch_process(config, "--http", f"127.0.0.1:{port}")
    browser = None
    try:
        log = tmp_path / "watch.log"
        wait_until(lambda: "every source ended" in log.read_text(), 90, "the clip's end")
        browser = Browser()
        url = f"http://127.0.0.1:{port}/"
        browser.call("Page.enable")
        browser.call("Page.navigate", url=url)
        # The recent events: both plates, and the camera's card.
        browser.wait_for("document.querySelectorAll('#events .event').length === 2")
        assert browser.js("document.querySelector('[data-camera=gate] h2').textContent") == "gate"
        # Search as a person would: type part of a plate, press the button.
        browser.js("document.getElementById('plate').focus()")
        browser.call("Input.insertText", text="9081")
        browser.js("document.getElementById('go').click()")
        browser.wait_for("document.getElementById('summary').textContent.includes('found')")
        found = browser.js("[...document.querySelectorAll('#events .event')]"
                           ".map(e => e.dataset.plate)")
        assert found == ["9081ХӨР"]
        badge = browser.js("document.querySelector('#events .badge').textContent")
        assert badge == "alert: reported stolen"
        # Its crop loaded (a real image from /media).
        browser.wait_for("document.querySelector('#events img').complete && "
                         "document.querySelector('#events img').naturalWidth > 50")
        shot = tmp_path / "page.png"
        browser.screenshot(shot)
        image = cv2.imread(str(shot))
        assert image is not None and image.shape[1] == 1280
        print(f"screenshot: {shot}")
        # A search for a plate that never came finds nothing.
        browser.js("document.getElementById('plate').value = '1111'")
        browser.js("document.getElementById('go').click()")
        browser.wait_for("document.getElementById('summary').textContent === '0 event(s) found'")
        # The API answers bad requests with a JSON error.
        status, body = browser.js(
            "fetch('/api/events?limit=abc').then(async r => [r.status, await r.json()])")
        assert status == 400 and "limit" in body["error"]
        status, body = browser.js(
            "fetch('/media/nope/crop').then(async r => [r.status, await r.json()])")
        assert status == 404 and body["error"]
    finally:
        if browser is not None:
            browser.close()
        stop(proc)
    assert proc.returncode == 0
