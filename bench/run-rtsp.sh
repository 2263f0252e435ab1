#!/usr/bin/env bash
# An RTSP IP camera (H.264, 1280x720 at 30 fps, served by the gst-rtsp-server
# helper camrelay-test-rtsp-camera) relayed to MJPEG viewers.
#   bench/run-rtsp.sh [N ...]        default: 1 100 viewers, 3 runs each
# The camera helper runs for the whole script; a fresh release-built service
# starts for every run. One line per run from camrelay-mjpeg-load.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-3}
port=${PORT:-18091}
rtsp_port=${RTSP_PORT:-18554}
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(1 100)
work=$(mktemp -d)
trap 'kill $camera 2>/dev/null || true; rm -rf "$work"' EXIT
build-release/tests/camrelay-test-rtsp-camera --port "$rtsp_port" --codec h264 --width 1280 --height 720 --fps 30 >"$work/camera.log" 2>&1 &
camera=$!
mkdir "$work/pipelines"
cat >"$work/pipelines/ipcam.conf" <<CONF
[camera]
name=RTSP H.264 720p30
source=rtspsrc location=rtsp://127.0.0.1:$rtsp_port/cam protocols=tcp latency=0 ! rtph264depay ! h264parse
quality=80
CONF
for n in "${counts[@]}"; do
  for r in $(seq "$runs"); do
    echo "== N=$n run $r"
    load_fresh_service "$port" ipcam "--rtsp-port -1 --pipelines $work/pipelines" --viewers "$n" --warmup 3 --duration "${DURATION:-10}"
  done
done
