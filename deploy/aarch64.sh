#!/usr/bin/env bash
# Proves that the runtime installs and reads plates on 64-bit ARM: every runtime dependency
# resolved as an aarch64 wheel from PyPI, installed offline into an arm64 Debian bookworm root
# (debootstrap, run through qemu-user-static), then `edge-alpr read` on the bundled sample.
# Emulated, so slow (tens of minutes the first time) and not part of CI.
#
# Needs root, debootstrap, qemu-user-static and binfmt-support (Debian packages), and the
# network for PyPI and deb.debian.org. The downloads and the root stay in $CACHE for reruns.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${EDGE_ALPR_ARM64_CACHE:-$REPO/deploy/.cache}
ROOT=$CACHE/rootfs-bookworm-arm64
WHEELS=$CACHE/wheels
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PY=${PYTHON:-python3}
# Bookworm's Python and glibc (2.36): onnxruntime, numpy and OpenCV ship manylinux_2_28
# aarch64 wheels, which pip's manylinux2014 alias alone does not match.
PLATFORMS=(manylinux_2_28_aarch64 manylinux_2_27_aarch64 manylinux2014_aarch64)

step() { printf '\n== %s\n' "$*"; }

step "edge-alpr wheel from the checkout, and its dependencies as aarch64 wheels"
rm -rf "$WHEELS" && mkdir -p "$WHEELS"
"$PY" -m pip wheel -q --no-deps --wheel-dir "$WHEELS" "$REPO"
wheel=$(ls "$WHEELS"/edge_alpr-*-py3-none-any.whl)
# Resolving the wheel itself takes the pins from its metadata, i.e. from pyproject.toml.
"$PY" -m pip download -q --only-binary=:all: --implementation cp --python-version 3.11 \
    "${PLATFORMS[@]/#/--platform=}" --dest "$WHEELS" "$wheel"
ls "$WHEELS"

step "arm64 Debian bookworm root in $ROOT"
if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    # Containers often start without binfmt_misc mounted; the kernel handler is shared.
    mountpoint -q /proc/sys/fs/binfmt_misc ||
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    update-binfmts --enable qemu-aarch64
fi
if [[ ! -e $ROOT/.second-stage-done ]]; then
    rm -rf "$ROOT"
    debootstrap --arch arm64 --foreign --variant=minbase \
        --include=python3,python3-venv,python3-pip bookworm "$ROOT" "$MIRROR"
    # Only used when binfmt was registered without the F (fix binary) flag.
    cp /usr/bin/qemu-aarch64-static "$ROOT/usr/bin/"
    chroot "$ROOT" /debootstrap/debootstrap --second-stage
    touch "$ROOT/.second-stage-done"
fi

mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
trap 'umount "$ROOT/dev" "$ROOT/proc"' EXIT
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

step "offline install into a venv inside the root"
rm -rf "$ROOT/opt/wheels" "$ROOT/opt/edge-alpr" "$ROOT/opt/sample"
cp -r "$WHEELS" "$ROOT/opt/wheels"
mkdir -p "$ROOT/opt/sample" && cp "$REPO/samples/scene.jpg" "$ROOT/opt/sample/"
in_root uname -m
in_root python3 -m venv /opt/edge-alpr
in_root /opt/edge-alpr/bin/pip install -q --no-index --find-links /opt/wheels edge-alpr

step "edge-alpr info (arm64, emulated)"
in_root /opt/edge-alpr/bin/edge-alpr info

step "edge-alpr read /opt/sample/scene.jpg (arm64, emulated)"
t0=$(date +%s.%N)
out=$(in_root /opt/edge-alpr/bin/edge-alpr read /opt/sample/scene.jpg)
t1=$(date +%s.%N)
echo "$out"
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "wall time, process start to exit (emulated): %.1f s\n", b - a }'

step "plate texts against samples/scene.json"
"$PY" "$REPO/deploy/check_read.py" "$REPO/samples/scene.json" <<<"$out"
