"""MQTT via paho-mqtt: events per camera, retained availability, Home Assistant discovery.

Topics (``P`` is ``topic_prefix``, ``C`` a camera name):

- ``P/status``: ``online`` / ``offline``, retained; ``offline`` is also the last will.
- ``P/C/status``: the camera's stream, ``online`` / ``offline``, retained.
- ``P/C/event``: each event's JSON, QoS 1.
- ``P/C/plate``: the last plate read (the sensor's state), QoS 1, retained.
- ``D/sensor/P/C_plate/config`` (``D`` is ``discovery_prefix``): Home Assistant discovery,
  retained, sent again when Home Assistant announces itself on ``D/status``.

paho's own thread does the network; ``publish`` only queues (at most MAX_QUEUED messages
while the broker is away), so reading never waits for the broker.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from . import require
from .config import MqttConfig

log = logging.getLogger(__name__)

QOS = 1
MAX_QUEUED = 1000


def _slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "_", text)


def discovery(config: MqttConfig, camera: str, version: str) -> tuple[str, dict[str, Any]]:
    """The Home Assistant discovery topic and config of a camera's "last plate" sensor."""
    p, node = config.topic_prefix, _slug(config.topic_prefix)
    object_id = f"{_slug(camera)}_plate"
    payload = {
        "name": "Last plate",
        "unique_id": f"{node}_{object_id}",
        "state_topic": f"{p}/{camera}/plate",
        "json_attributes_topic": f"{p}/{camera}/event",
        "availability": [{"topic": f"{p}/status"}, {"topic": f"{p}/{camera}/status"}],
        "availability_mode": "all",
        "payload_available": "online",
        "payload_not_available": "offline",
        "icon": "mdi:car",
        "qos": QOS,
        "device": {"identifiers": [f"{node}_{_slug(camera)}"], "name": f"{camera} (edge-alpr)",
                   "manufacturer": "edge-alpr", "model": "licence plate camera",
                   "sw_version": version},
    }
    return f"{config.discovery_prefix}/sensor/{node}/{object_id}/config", payload


class Mqtt:
    name = "mqtt"

    def __init__(self, config: MqttConfig, cameras: list[str], version: str) -> None:
        mqtt = require("paho.mqtt.client")
        self.config = config
        self.cameras = cameras
        self.version = version
        self.published = 0
        self.connected = False
        self.last_error = ""
        self._camera_up: dict[str, bool] = {c: False for c in cameras}
        p = config.topic_prefix
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=config.client_id)
        if config.username:
            self._client.username_pw_set(config.username, config.password or None)
        self._client.will_set(f"{p}/status", "offline", qos=QOS, retain=True)
        self._client.max_queued_messages_set(MAX_QUEUED)
        self._client.reconnect_delay_set(1, 30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_message = self._on_message
        self._client.connect_async(config.host, config.port, config.keepalive)
        self._client.loop_start()

    def _announce(self) -> None:
        c = self.config
        if not c.discovery_prefix:
            return
        for camera in self.cameras:
            topic, payload = discovery(c, camera, self.version)
            self._client.publish(topic, json.dumps(payload), qos=QOS, retain=True)

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self.last_error = f"connection refused: {reason}"
            log.error("mqtt %s:%d: %s", self.config.host, self.config.port, self.last_error)
            return
        self.connected, self.last_error = True, ""
        log.info("mqtt: connected to %s:%d", self.config.host, self.config.port)
        p = self.config.topic_prefix
        client.publish(f"{p}/status", "online", qos=QOS, retain=True)
        for camera, up in self._camera_up.items():
            client.publish(f"{p}/{camera}/status", "online" if up else "offline", qos=QOS,
                           retain=True)
        if self.config.discovery_prefix:
            client.subscribe(f"{self.config.discovery_prefix}/status", qos=QOS)
        self._announce()

    def _on_connect_fail(self, client, userdata) -> None:
        error = f"broker {self.config.host}:{self.config.port} unreachable"
        if error != self.last_error:  # once per outage; paho keeps trying
            log.warning("mqtt: %s; retrying", error)
        self.last_error = error

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        self.connected = False
        if reason.is_failure:
            self.last_error = f"disconnected: {reason}"
            log.warning("mqtt %s:%d: %s; paho reconnects", self.config.host, self.config.port,
                        self.last_error)

    def _on_message(self, client, userdata, message) -> None:
        if message.payload == b"online":  # Home Assistant (re)started: announce again
            self._announce()

    def publish(self, event: dict[str, Any]) -> None:
        p, camera = self.config.topic_prefix, event["camera"]
        self._client.publish(f"{p}/{camera}/event", json.dumps(event, ensure_ascii=False),
                             qos=QOS)
        self._client.publish(f"{p}/{camera}/plate", event["text"], qos=QOS, retain=True)
        self.published += 1

    def camera_state(self, camera: str, connected: bool) -> None:
        self._camera_up[camera] = connected
        self._client.publish(f"{self.config.topic_prefix}/{camera}/status",
                             "online" if connected else "offline", qos=QOS, retain=True)

    def status(self) -> dict[str, Any]:
        return {"broker": f"{self.config.host}:{self.config.port}",
                "connected": self.connected, "published": self.published,
                "last_error": self.last_error}

    def close(self) -> None:
        p = self.config.topic_prefix
        info = self._client.publish(f"{p}/status", "offline", qos=QOS, retain=True)
        if self.connected:
            try:
                info.wait_for_publish(timeout=3)
            except (RuntimeError, ValueError) as e:
                log.warning("mqtt: offline status not sent: %s", e)
        self._client.disconnect()
        self._client.loop_stop()
