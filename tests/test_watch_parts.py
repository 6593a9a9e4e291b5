"""The watch layer's parts, each alone: configuration, watchlist, frame queue, reads log,
webhook."""

import csv
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from edge_alpr.alphabet import DIGITS, LETTERS
from edge_alpr.watch.config import ConfigError, load_config
from edge_alpr.watch.frames import Closed, Frame, FrameQueue
from edge_alpr.watch.readslog import Query, ReadsLog
from edge_alpr.watch.watchlist import Watchlist, WatchlistError, fold
from tests.watch_services import Receiver, wait_until

CAMERA = '[[cameras]]\nname = "gate"\nsource = "rtsp://127.0.0.1:8554/live"\n'


def test_a_full_config_loads_with_paths_relative_to_it(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text(CAMERA + 'fps = 5\nroi = [0, 100, 1920, 1080]\nmin_plate_width = 60\n'
                    '[[cameras]]\nname = "yard"\nsource = 0\n'
                    '[[cameras]]\nname = "file"\nsource = "clips/a.mp4"\n'
                    '[watch]\nevents_dir = "ev"\nhttp = "127.0.0.1:8090"\n'
                    '[watchlist]\npath = "list.csv"\nmax_distance = 2\n'
                    '[outputs.jsonl]\npath = "-"\n[outputs.reads_log]\npath = "r.sqlite"\n'
                    '[outputs.webhook]\nurl = "http://127.0.0.1:9/x"\nlists = ["allow"]\n'
                    '[outputs.mqtt]\nport = 1884\n')
    c = load_config(path)
    assert [cam.name for cam in c.cameras] == ["gate", "yard", "file"]
    assert c.cameras[0].roi == (0, 100, 1920, 1080) and c.cameras[0].fps == 5
    assert c.cameras[1].source == 0 and not c.cameras[1].is_file
    assert c.cameras[2].source == str(tmp_path / "clips/a.mp4") and c.cameras[2].is_file
    assert c.events_dir == tmp_path / "ev" and c.reads_log == tmp_path / "r.sqlite"
    assert c.watchlist == tmp_path / "list.csv" and c.max_distance == 2
    assert c.webhook.lists == ("allow",) and c.mqtt.port == 1884 and c.jsonl == "-"


@pytest.mark.parametrize("text, message", [
    ("", "at least one [[cameras]]"),
    ("[[cameras]]\nname = \"gate\"\n", "cameras[0] needs source"),
    (CAMERA + "fsp = 5\n", "unknown key cameras[0].fsp"),
    (CAMERA + "fps = \"5\"\n", "cameras[0].fps must be float"),
    (CAMERA + "roi = [10, 10, 5, 20]\n", "cameras[0].roi must be [x0, y0, x1, y1]"),
    (CAMERA + "every = 0\n", "cameras[0].every must be at least 1"),
    (CAMERA + CAMERA, "camera names must differ"),
    ('[[cameras]]\nname = "a/b"\nsource = "x.mp4"\n', "cameras[0].name must be"),
    (CAMERA + "[outputs.webhook]\nurl = \"ftp://x\"\n", "must be http:// or https://"),
    (CAMERA + "[outputs.kafka]\nx = 1\n", "unknown output 'kafka'"),
    (CAMERA + "[camera]\n", "unknown section(s) camera"),
    (CAMERA + "fps = 5\nfps = 6\n", "not valid TOML"),
])
def test_a_bad_config_names_the_file_and_the_key(tmp_path, text, message):
    path = tmp_path / "w.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(path) in str(e.value) and message in str(e.value)


def test_a_missing_config_is_an_error_not_a_default(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")


def test_the_example_config_in_the_repository_loads():
    from pathlib import Path

    c = load_config(Path(__file__).parents[1] / "deploy" / "watch.example.toml")
    assert c.cameras and c.mqtt and c.webhook and c.reads_log


@pytest.mark.parametrize("typed, plate", [
    ("4253YБГ", "4253УБГ"),  # Latin Y for У
    ("4253 убг", "4253УБГ"),  # lower case and a space
    ("9081XOP", "9081ХӨР"),  # Latin X, O for Ө, P for Р
    ("9O81ХӨР", "9081ХӨР"),  # letter O for the digit 0
    ("1234-ҮАМ", "1234УАМ"),  # Ү folds with У
    ("4253УБГ", "4253YБГ"),
    ("42S3УБГ", None),  # S is no look-alike of 5
    ("З081ХӨР", "3081ХӨР"),  # by slot: Cyrillic З in a digit slot is 3
    ("1234ОВЗ", "1234083"),  # and 0, 8, 3 in letter slots are О, В, З
])
def test_folding_makes_look_alikes_equal(typed, plate):
    if plate is None:
        assert fold(typed) != fold(typed.replace("S", "5"))
    else:
        assert fold(typed) == fold(plate)


def test_every_plate_character_folds_into_the_alphabet():
    assert set(fold(DIGITS + LETTERS)) <= set(DIGITS + LETTERS)


def write_list(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["plate", "label", "list"], *rows])


@pytest.mark.parametrize("read, expected", [
    ("4253УБГ", ("4253YБГ", "allow", 0, False)),
    ("4258УБГ", ("4253YБГ", "allow", 1, False)),  # one misread character
    ("4288УБГ", None),  # two: beyond max_distance 1
    ("9081ХӨР", ("9081XOP", "deny", 0, False)),  # deny wins over the allow entry's tie
    ("1111ААА", ("1111ААА", "alert", 0, True)),
])
def test_watchlist_matches_with_distance_and_folding(tmp_path, read, expected):
    path = tmp_path / "list.csv"
    write_list(path, [["4253YБГ", "staff", "allow"], ["9081XOP", "stolen", "deny"],
                      ["9081ХӨР", "visitor", "allow"], ["1111ААА", "", "alert"]])
    m = Watchlist(path, max_distance=1).match(read)
    got = None if m is None else (m.entry.plate, m.entry.list, m.distance, m.exact)
    assert got == expected


@pytest.mark.parametrize("rows, message", [
    ([["4253УБГ", "x", "maybe"]], ":2: list must be one of deny, alert, allow"),
    ([["4253УБГ", "x"]], ":2: expected 3 fields"),
    ([["4253УБ!", "x", "allow"]], ":2: '4253УБ!' is not a plate"),
])
def test_a_bad_watchlist_line_is_named(tmp_path, rows, message):
    path = tmp_path / "list.csv"
    write_list(path, rows)
    with pytest.raises(WatchlistError, match=message):
        Watchlist(path)


def test_the_watchlist_reloads_when_edited_and_keeps_the_old_list_on_a_bad_edit(tmp_path):
    import os

    path = tmp_path / "list.csv"
    write_list(path, [["4253УБГ", "", "allow"]])
    wl = Watchlist(path)
    write_list(path, [["9081ХӨР", "", "deny"]])
    os.utime(path, ns=(1, 1))
    assert wl.match("4253УБГ") is None and wl.match("9081ХӨР").entry.list == "deny"
    path.write_text("not,a,watchlist\n")
    os.utime(path, ns=(2, 2))
    assert wl.match("9081ХӨР").entry.list == "deny"


def frame(i):
    return Frame(i, float(i), np.zeros((2, 2, 3), np.uint8))


def test_a_live_queue_drops_the_oldest_frame_and_counts_it():
    q = FrameQueue(3)
    for i in range(5):
        q.put(frame(i))
    assert q.dropped == 2 and [q.get(0).index for _ in range(3)] == [2, 3, 4]
    assert q.get(0.01) is None
    q.close()
    with pytest.raises(Closed):
        q.get(0.01)


def test_a_file_queue_waits_instead_of_dropping():
    q = FrameQueue(2)
    q.put(frame(0), block=True)
    q.put(frame(1), block=True)
    t = threading.Thread(target=q.put, args=(frame(2),), kwargs={"block": True})
    t.start()
    time.sleep(0.1)
    assert t.is_alive() and len(q) == 2  # waiting for room
    assert q.get(1).index == 0
    t.join(1)
    assert not t.is_alive() and q.dropped == 0 and [q.get(0).index for _ in range(2)] == [1, 2]


def event(i, plate, camera="gate", first="2026-11-26T10:00:00.000Z", wl=None):
    return {"event": "end", "id": f"{camera}-{i}", "camera": camera, "track": i, "text": plate,
            "first_seen": first, "last_seen": first, "frames": 9, "confidence": 0.9,
            "direction": "approaching", "watchlist": wl, "crop": f"/e/{i}-crop.jpg",
            "frame": f"/e/{i}-frame.jpg"}


@pytest.fixture
def reads_log(tmp_path):
    log = ReadsLog(tmp_path / "reads.sqlite")
    log.publish(event(1, "4253УБГ", first="2026-11-26T10:00:00.000Z",
                      wl={"list": "allow", "label": "staff", "plate": "4253УБГ"}))
    log.publish(event(2, "9081ХӨР", first="2026-11-26T11:00:00.000Z"))
    log.publish(event(3, "4253УБГ", camera="yard", first="2026-11-26T12:00:00.000Z"))
    log.close()
    return tmp_path / "reads.sqlite"


@pytest.mark.parametrize("query, ids", [
    (Query(), ["yard-3", "gate-2", "gate-1"]),
    (Query(plate="4253"), ["yard-3", "gate-1"]),
    (Query(plate="4253YБГ"), ["yard-3", "gate-1"]),  # folded like the watchlist
    (Query(plate="%"), []),  # LIKE's wildcards are plain characters
    (Query(camera="gate"), ["gate-2", "gate-1"]),
    (Query(since="2026-11-26T10:30", until="2026-11-26T11:30"), ["gate-2"]),
    (Query(limit=1), ["yard-3"]),
])
def test_reads_log_queries(reads_log, query, ids):
    assert [e["id"] for e in ReadsLog(reads_log, readonly=True).query(query)] == ids


def test_reads_log_has_an_index_on_plate_and_time(reads_log):
    import sqlite3

    db = sqlite3.connect(reads_log)
    plan = " ".join(r[3] for r in db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM events WHERE plate_key = ? AND first_seen >= ?",
        ("4253УБГ", "2026")))
    assert "events_plate_time" in plan


def test_reads_command_exports_csv_and_never_overwrites(reads_log, tmp_path):
    out = tmp_path / "out.csv"
    cmd = [sys.executable, "-m", "edge_alpr.cli", "reads", str(reads_log), "--plate", "4253",
           "--csv", str(out)]
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["id"], r["plate"], r["list"]) for r in rows] == [
        ("gate-1", "4253УБГ", "allow"), ("yard-3", "4253УБГ", "")]
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 1 and "not overwritten" in again.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    lines = subprocess.run([sys.executable, "-m", "edge_alpr.cli", "reads", str(reads_log),
                            "--camera", "yard"], capture_output=True, text=True).stdout
    assert [json.loads(s)["id"] for s in lines.splitlines()] == ["yard-3"]
    missing = subprocess.run([sys.executable, "-m", "edge_alpr.cli", "reads",
                              str(tmp_path / "none.sqlite")], capture_output=True, text=True)
    assert missing.returncode == 1 and "no such reads log" in missing.stderr


def test_webhook_retries_until_delivered_and_filters_by_list():
    from edge_alpr.watch.config import WebhookConfig
    from edge_alpr.watch.webhook import Webhook

    with Receiver(fail_first=2) as rx:
        hook = Webhook(WebhookConfig(url=rx.url, retries=3, lists=("allow",)))
        hook.publish(event(1, "4253УБГ", wl={"list": "allow"}))
        hook.publish(event(2, "9081ХӨР"))  # no watchlist match: not for this hook
        wait_until(lambda: rx.bodies, 10, "the webhook's delivery")
        hook.close()
    assert [b["id"] for b in rx.bodies] == ["gate-1"] and rx.requests == 3
    assert hook.status()["sent"] == 1 and hook.status()["failed"] == 0


def test_a_dead_webhook_never_blocks_and_its_queue_stays_bounded():
    from edge_alpr.watch.config import WebhookConfig
    from edge_alpr.watch.webhook import Webhook
    from tests.watch_services import free_port

    hook = Webhook(WebhookConfig(url=f"http://127.0.0.1:{free_port()}/", retries=100,
                                 queue=5))
    t0 = time.perf_counter()
    for i in range(50):
        hook.publish(event(i, "4253УБГ"))
    assert time.perf_counter() - t0 < 0.5
    s = hook.status()
    assert s["queued"] <= 5 and s["dropped"] >= 45 and s["sent"] == 0
    hook.close()


def test_the_core_never_imports_the_watch_layer_and_watch_imports_no_tensorflow():
    code = ("import sys, pkgutil, importlib, edge_alpr\n"
            "core = [m.name for m in pkgutil.iter_modules(edge_alpr.__path__) "
            "if m.name != 'watch']\n"
            "for name in core: importlib.import_module('edge_alpr.' + name)\n"
            "assert not [m for m in sys.modules if m.startswith('edge_alpr.watch')], 'core'\n"
            "for name in ('app', 'page', 'mqtt', 'webhook'): "
            "importlib.import_module('edge_alpr.watch.' + name)\n"
            "assert 'tensorflow' not in sys.modules\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_reads_command_rejects_a_time_that_is_not_iso(reads_log):
    run = subprocess.run([sys.executable, "-m", "edge_alpr.cli", "reads", str(reads_log),
                          "--since", "yesterday"], capture_output=True, text=True)
    assert run.returncode == 1 and "since 'yesterday' is not an ISO 8601 UTC time" in run.stderr
