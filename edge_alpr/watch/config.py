"""The watch configuration: a TOML file of cameras, a watchlist and outputs.

Every key is checked: an unknown key, a wrong type or a missing value is a
:class:`ConfigError` that names the file and the key. ``deploy/watch.example.toml`` documents
each key.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import EdgeAlprError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class ConfigError(EdgeAlprError, ValueError):
    """A watch configuration that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class CameraConfig:
    name: str
    source: str | int  # URL, file path or device index
    every: int = 1  # read every Nth frame ...
    fps: float = 0.0  # ... or at most this many frames per second (0: every frame)
    roi: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 in frame pixels
    min_plate_width: float = 0.0  # pixels; narrower plates are not read
    queue: int = 4  # frames waiting to be read; the oldest is dropped when full
    max_missed: int = 10  # read frames without the plate before its track ends
    min_reads: int = 2  # reads a track needs to be reported

    @property
    def is_file(self) -> bool:
        return isinstance(self.source, str) and "://" not in self.source


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    timeout: float = 5.0  # seconds per attempt
    retries: int = 5  # attempts after the first, with doubling waits
    queue: int = 100  # events waiting to be sent; the oldest is dropped when full
    lists: tuple[str, ...] = ()  # send only events matching these watchlist lists (empty: all)
    seen: bool = True  # send "seen" events too (when they are on)


@dataclass(frozen=True)
class MqttConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = ""
    client_id: str = "edge-alpr"
    topic_prefix: str = "edge-alpr"
    discovery_prefix: str = "homeassistant"  # "" turns Home Assistant discovery off
    keepalive: int = 30


@dataclass(frozen=True)
class WatchConfig:
    path: Path
    cameras: tuple[CameraConfig, ...]
    events_dir: Path = Path("events")
    report_unmatched: bool = False
    seen_events: bool = False
    threads: int | None = None
    http: str = ""  # host:port of the page, "" for none
    watchlist: Path | None = None
    max_distance: int = 1
    jsonl: str = ""  # a file, "-" for stdout, "" for none
    webhook: WebhookConfig | None = None
    mqtt: MqttConfig | None = None
    reads_log: Path | None = None
    recent: int = 200  # events kept in memory for the page


_TYPES = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}


def _take(table: dict, cls: type, where: str, path: Path, convert: dict | None = None) -> Any:
    """Build dataclass ``cls`` from a TOML table, checking keys and types."""
    convert = convert or {}
    known = {f.name: f for f in fields(cls)}
    kwargs = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{path}: unknown key {where}.{key}")
        if key in convert:
            kwargs[key] = convert[key](value, f"{where}.{key}")
            continue
        want = known[key].type
        base = {"int": int, "float": float, "str": str, "bool": bool}.get(str(want))
        if base is not None and (not isinstance(value, _TYPES[base])
                                 or (base is not bool and isinstance(value, bool))):
            raise ConfigError(f"{path}: {where}.{key} must be {base.__name__}, "
                              f"not {value!r}")
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as e:
        missing = [f.name for f in fields(cls) if f.name not in kwargs]
        raise ConfigError(f"{path}: {where} needs {', '.join(missing)} ({e})") from e


def load_config(path: str | Path) -> WatchConfig:
    """Read and check a watch configuration; relative paths in it are relative to the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: no such file") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot be read: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    base = path.parent

    def rel(value: Any, where: str) -> Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: {where} must be a path")
        return (base / value).resolve() if not Path(value).is_absolute() else Path(value)

    def source(value: Any, where: str) -> str | int:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: {where} must be a URL, a file or a device index")
        if "://" in value:
            return value
        return str(rel(value, where))

    def roi(value: Any, where: str) -> tuple[int, int, int, int]:
        if (not isinstance(value, list) or len(value) != 4
                or not all(isinstance(v, int) and v >= 0 for v in value)
                or not (value[2] > value[0] and value[3] > value[1])):
            raise ConfigError(f"{path}: {where} must be [x0, y0, x1, y1], pixels, "
                              f"x1 > x0 and y1 > y0; got {value!r}")
        return tuple(value)

    def str_list(value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: {where} must be a list of strings")
        return tuple(value)

    unknown = set(data) - {"watch", "cameras", "watchlist", "outputs"}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    cams = data.get("cameras")
    if not isinstance(cams, list) or not cams:
        raise ConfigError(f"{path}: needs at least one [[cameras]] entry")
    cameras = []
    for i, table in enumerate(cams):
        cam = _take(table, CameraConfig, f"cameras[{i}]", path,
                    {"source": source, "roi": roi})
        if not cam.name or not cam.name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"{path}: cameras[{i}].name must be letters, digits, - or _ "
                              f"(it names MQTT topics and folders); got {cam.name!r}")
        for key, low in (("every", 1), ("queue", 1), ("max_missed", 0), ("min_reads", 1)):
            if getattr(cam, key) < low:
                raise ConfigError(f"{path}: cameras[{i}].{key} must be at least {low}")
        if cam.fps < 0 or cam.min_plate_width < 0:
            raise ConfigError(f"{path}: cameras[{i}]: fps and min_plate_width must be >= 0")
        cameras.append(cam)
    names = [c.name for c in cameras]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: camera names must differ: {names}")

    kwargs: dict[str, Any] = {}
    watch = data.get("watch", {})
    allowed = {"events_dir": rel, "report_unmatched": bool, "seen_events": bool,
               "threads": int, "http": str, "recent": int}
    for key, value in watch.items():
        if key not in allowed:
            raise ConfigError(f"{path}: unknown key watch.{key}")
        kind = allowed[key]
        if kind is rel:
            kwargs[key] = rel(value, f"watch.{key}")
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: watch.{key} must be {kind.__name__}")
        else:
            kwargs[key] = value
    if "events_dir" not in kwargs:
        kwargs["events_dir"] = (base / "events").resolve()

    wl = data.get("watchlist", {})
    for key, value in wl.items():
        if key == "path":
            kwargs["watchlist"] = rel(value, "watchlist.path")
        elif key == "max_distance" and isinstance(value, int) and value >= 0:
            kwargs["max_distance"] = value
        else:
            raise ConfigError(f"{path}: watchlist.{key}: unknown key or bad value {value!r}")

    outputs = data.get("outputs", {})
    for key, table in outputs.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: outputs.{key} must be a table")
        if key == "jsonl":
            value = table.get("path")
            if set(table) != {"path"} or not isinstance(value, str) or not value:
                raise ConfigError(f"{path}: outputs.jsonl takes one key, path (\"-\": stdout)")
            kwargs["jsonl"] = value if value == "-" else str(rel(value, "outputs.jsonl.path"))
        elif key == "webhook":
            kwargs["webhook"] = _take(table, WebhookConfig, "outputs.webhook", path,
                                      {"lists": str_list})
            if not kwargs["webhook"].url.startswith(("http://", "https://")):
                raise ConfigError(f"{path}: outputs.webhook.url must be http:// or https://")
        elif key == "mqtt":
            kwargs["mqtt"] = _take(table, MqttConfig, "outputs.mqtt", path)
        elif key == "reads_log":
            if set(table) != {"path"}:
                raise ConfigError(f"{path}: outputs.reads_log takes one key, path")
            kwargs["reads_log"] = rel(table["path"], "outputs.reads_log.path")
        else:
            raise ConfigError(f"{path}: unknown output {key!r} "
                              "(jsonl, webhook, mqtt, reads_log)")
    return WatchConfig(path=path, cameras=tuple(cameras), **kwargs)
