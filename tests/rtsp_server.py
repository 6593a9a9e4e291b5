"""A real RTSP server on loopback for the watch tests: GStreamer's RTSP server (Debian's
gir1.2-gst-rtsp-server-1.0 and python3-gi), serving an H.264 Matroska file as it is (no
re-encoding), in real time, at rtsp://127.0.0.1:PORT/live.

    /usr/bin/python3 tests/rtsp_server.py PORT CLIP.mkv

Run by Debian's own Python (where the GObject bindings are), not the project's venv. Prints
"ready" when it listens; stops on SIGTERM.
"""

import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    port, clip = sys.argv[1], sys.argv[2]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f'( filesrc location="{clip}" ! matroskademux ! h264parse '
                       "! rtph264pay name=pay0 pt=96 config-interval=1 )")
    factory.set_shared(True)  # one pipeline for every client, like a camera
    server.get_mount_points().add_factory("/live", factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on 127.0.0.1:{port}")
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
