"""Where each API's clients put the image, and their form fields, read from a request."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from .http import HttpError, parse_form
from .shapes import parse_timestamp

RAW_IMAGE_TYPES = ("image/", "application/octet-stream")
_DATA_URL = re.compile(r"^data:[\w/+.-]*;base64,")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None  # as the client named it, None when it named nothing


def first_file(form: FormData, preferred: tuple[str, ...] = ()) -> UploadFile | None:
    """The file part of the first name in ``preferred`` that has one, else the first file part
    whatever its name (clients name it ``upload``, ``image``, ``file``...)."""
    for name in preferred:
        for value in form.getlist(name):
            if isinstance(value, UploadFile):
                return value
    return next((v for _, v in form.multi_items() if isinstance(v, UploadFile)), None)


async def file_upload(part: UploadFile) -> Upload:
    return Upload(await part.read(), part.filename or None)


async def edge_upload(request: Request, max_bytes: int) -> Upload:
    """``POST /v1/read``: a multipart file part (``upload`` first) or a raw image body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.startswith(RAW_IMAGE_TYPES):
        return Upload(await request.body(), None)
    part = first_file(await parse_form(request, max_bytes), ("upload",))
    if part is None:
        raise HttpError(400, "no image: send it as the multipart file part 'upload' or as the "
                        "raw body with an image content type")
    return await file_upload(part)


def decode_base64_image(text: str, field: str) -> bytes:
    """Image bytes from base64 text: whitespace, a ``data:...;base64,`` prefix and the ``+``
    that url-encoding turned into spaces are tolerated."""
    text = _DATA_URL.sub("", text.strip())
    text = text.replace(" ", "+").replace("\n", "").replace("\r", "")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as e:
        raise HttpError(400, f"{field}: neither a file part nor base64 image data") from e


def form_float(form: FormData, name: str, low: float, high: float) -> float | None:
    value = form.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value) if isinstance(value, str) else float("nan")
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        raise HttpError(400, f"{name}: expected a number from {low} to {high}, got {value!r}")
    return number


def form_bool(form: FormData, name: str) -> bool:
    value = form.get(name, "")
    text = value.strip().lower() if isinstance(value, str) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise HttpError(400, f"{name}: expected true or false, got {value!r}")


def form_json_object(form: FormData, name: str) -> dict[str, Any]:
    value = form.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except json.JSONDecodeError as e:
        raise HttpError(400, f"{name}: not JSON ({e.msg} at character {e.pos})") from e
    if not isinstance(parsed, dict):
        raise HttpError(400, f"{name}: expected a JSON object, got {value!r}")
    return parsed


@dataclass(frozen=True)
class SnapshotRequest:
    """A Plate Recognizer Snapshot request, its fields checked."""

    upload: Upload
    camera_id: str | None
    timestamp: datetime  # as sent, else now
    threshold_d: float  # config's detection and reading thresholds (0: keep every plate)
    threshold_o: float


async def plate_recognizer_request(form: FormData) -> SnapshotRequest:
    """``upload`` as a file part or base64 text; ``upload_url`` refused (nothing is fetched);
    ``regions`` accepted (every plate read is Mongolian); ``camera_id``; ``timestamp``; ``mmc``
    accepted (make, model and colour are not predicted); ``config``, whose ``threshold_d`` and
    ``threshold_o`` are honoured and other keys ignored."""
    if form.get("upload_url"):
        raise HttpError(400, "upload_url is not supported: edge-alpr fetches nothing from the "
                        "network; send the image itself in 'upload'")
    stamp = form.get("timestamp")
    try:
        moment = (parse_timestamp(stamp) if isinstance(stamp, str) and stamp.strip()
                  else datetime.now(timezone.utc))
    except ValueError as e:
        raise HttpError(400, f"timestamp: expected ISO 8601 with Z or an offset, got "
                        f"{stamp!r}") from e
    form_bool(form, "mmc")
    config = form_json_object(form, "config")
    thresholds = [_threshold(config, key) for key in ("threshold_d", "threshold_o")]
    part = first_file(form, ("upload",))
    if part is not None:
        upload = await file_upload(part)
    elif isinstance(form.get("upload"), str):
        upload = Upload(decode_base64_image(form["upload"], "upload"), None)
    else:
        raise HttpError(400, "upload: required (a file part, or base64 image data)")
    camera_id = form.get("camera_id")
    return SnapshotRequest(upload, camera_id if isinstance(camera_id, str) and camera_id
                           else None, moment, *thresholds)


def _threshold(config: dict[str, Any], key: str) -> float:
    value = config.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise HttpError(400, f"config.{key}: expected a number from 0 to 1, got {value!r}")
    return float(value)
