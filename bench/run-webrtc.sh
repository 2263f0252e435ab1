#!/usr/bin/env bash
# What WebRTC (WHEP) peers cost the service, with a passthrough RTSP H.264
# camera (no encoder anywhere in camrelay): CPU at 1 and 20 peers, time from
# POST to the first decoded frame, and capture-to-decoder latency p50/p99 from
# the ntp-64 RTP header extension (the time the service got each access unit
# from the camera, read back by the decoding peer on the same clock).
# Source: the RTSP test camera, H.264 1280x720 at 30 fps. Peers decode in the
# load tool's process on this same machine: their CPU is not the service's.
#   bench/run-webrtc.sh              RUNS=3 PEERS="1 20" by default
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-3}; peer_counts=${PEERS:-1 20}
port=${PORT:-18093}; rtsp_in=${RTSP_PORT:-18557}
width=${WIDTH:-1280}; height=${HEIGHT:-720}
work=$(mktemp -d)
trap 'kill $camera 2>/dev/null || true; rm -rf "$work"' EXIT
build-release/tests/camrelay-test-rtsp-camera --port "$rtsp_in" --codec h264 --width "$width" --height "$height" --fps 30 >/dev/null 2>&1 &
camera=$!
printf '[camera]\nsource=rtspsrc location=rtsp://127.0.0.1:%s/cam protocols=tcp latency=0 ! rtph264depay\n' "$rtsp_in" >"$work/cam.conf"
printf '[limits]\nmax-connections-per-address=1000000\n[webrtc]\nmax-peers=100\n' >"$work/bench.ini"
for peers in $peer_counts; do
  for r in $(seq "$runs"); do
    build-release/src/camrelay --listen 127.0.0.1 --port "$port" --rtsp-port -1 --config "$work/bench.ini" \
      --pipelines "$work" >/dev/null 2>&1 &
    pid=$!
    wait_live "$port" cam
    echo -n "run=$r "
    build-release/bench/camrelay-whep-load --port "$port" --camera cam --peers "$peers" --warmup 3 --duration 10 --pid "$pid" || true
    kill "$pid"; wait "$pid" || true
  done
done
