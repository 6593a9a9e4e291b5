"""Where each API's clients put the image, and their form fields, read from a request."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from .http import HttpError, parse_form

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
