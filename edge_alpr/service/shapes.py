"""The CodeProject.AI ALPR and Plate Recognizer Snapshot response shapes, as thin mappings from
edge-alpr's one plate schema (:meth:`edge_alpr.pipeline.PlateResult.to_dict`).

Field names and forms follow the APIs' published documentation and what their public clients
read (README, "HTTP service", for the mapping and the sources).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

# CodeProject.AI: what its ALPR module and server put around the predictions.
CPAI_MODULE_ID = "ALPR"
CPAI_MODULE_NAME = "License Plate Reader"
CPAI_COMMAND = "alpr"
# Its module lists at most this many plates in "message", then "...".
_CPAI_MESSAGE_PLATES = 3

# Plate Recognizer: the country code of every plate edge-alpr reads, the response version,
# and the quota reported in "usage" (there is none: the largest 32-bit integer, so a client
# that computes what is left never sees 0).
PR_REGION = "mn"
PR_VERSION = 1
PR_MAX_CALLS = 2**31 - 1
# edge-alpr finds plates, not vehicles: the vehicle the Snapshot SDK reports when it found none.
PR_NO_VEHICLE: dict[str, Any] = {
    "score": 0.0, "type": "Unknown", "box": {"xmin": 0, "ymin": 0, "xmax": 0, "ymax": 0}}


def _int_box(box: list[float]) -> tuple[int, int, int, int]:
    """Whole pixels that cover the box, as both APIs give them."""
    x0, y0, x1, y1 = box
    return math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)


def codeproject_prediction(plate: dict[str, Any]) -> dict[str, Any]:
    x0, y0, x1, y1 = _int_box(plate["box"])
    return {"confidence": plate["confidence"], "label": f"Plate: {plate['text']}",
            "plate": plate["text"], "x_min": x0, "y_min": y0, "x_max": x1, "y_max": y1}


def codeproject_response(plates: list[dict[str, Any]], *, process_ms: float,
                         inference_ms: float, round_trip_ms: float, request_id: str,
                         device: str) -> dict[str, Any]:
    predictions = [codeproject_prediction(p) for p in plates]
    labels = [p["label"] for p in predictions]
    message = ("Found " + ", ".join(labels[:_CPAI_MESSAGE_PLATES])
               + ("..." if len(labels) > _CPAI_MESSAGE_PLATES else "")
               if labels else "No plates found")
    return {
        "success": True, "predictions": predictions, "count": len(predictions),
        "message": message, "processMs": round(process_ms), "inferenceMs": round(inference_ms),
        "moduleId": CPAI_MODULE_ID, "moduleName": CPAI_MODULE_NAME, "code": 200,
        "command": CPAI_COMMAND, "requestId": request_id, "inferenceDevice": device,
        "analysisRoundTripMs": round(round_trip_ms),
    }


def platerecognizer_result(plate: dict[str, Any]) -> dict[str, Any]:
    x0, y0, x1, y1 = _int_box(plate["box"])
    # The region is Mongolia by construction; its score says whether the text fits the
    # Mongolian plate grammar.
    return {
        "box": {"xmin": x0, "ymin": y0, "xmax": x1, "ymax": y1},
        "plate": plate["text"].lower(),
        "region": {"code": PR_REGION, "score": 1.0 if plate["matches_pattern"] else 0.0},
        "score": round(plate["confidence"], 3),
        "candidates": [{"score": round(c["confidence"], 3), "plate": c["text"].lower()}
                       for c in plate["candidates"]],
        "dscore": round(plate["score"], 3),
        "vehicle": PR_NO_VEHICLE,
    }


def platerecognizer_response(plates: list[dict[str, Any]], *, processing_ms: float,
                             filename: str | None, camera_id: str | None,
                             timestamp: datetime, calls: int) -> dict[str, Any]:
    return {
        "processing_time": round(processing_ms, 3),
        "results": [platerecognizer_result(p) for p in plates],
        "filename": filename, "version": PR_VERSION, "camera_id": camera_id,
        "timestamp": utc_iso(timestamp),
        "usage": {"calls": calls, "max_calls": PR_MAX_CALLS},
    }


def utc_iso(moment: datetime) -> str:
    """``2026-11-26T12:30:00.123456Z``; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 time with ``Z`` or an offset (naive: UTC); ValueError when it is none."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):  # fromisoformat before Python 3.11 does not read Z
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
