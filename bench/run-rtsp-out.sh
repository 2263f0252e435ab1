#!/usr/bin/env bash
# What RTSP re-streaming costs the service: CPU over a 10 s window with no RTSP
# client, and with RTSP clients (ffmpeg copying the stream), in encode mode
# (the camera's JPEG re-encoded to H.264) and passthrough mode (the camera's
# own H.264). Source: the RTSP test camera, H.264 1280x720 at 30 fps.
#   bench/run-rtsp-out.sh            RUNS=3 CLIENTS=2 by default
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-3}; clients=${CLIENTS:-2}
port=${PORT:-18092}; rtsp_in=${RTSP_PORT:-18555}; rtsp_out=${RTSP_OUT_PORT:-18556}
work=$(mktemp -d)
trap 'kill $camera 2>/dev/null || true; rm -rf "$work"' EXIT
build-release/tests/camrelay-test-rtsp-camera --port "$rtsp_in" --codec h264 --width 1280 --height 720 --fps 30 >/dev/null 2>&1 &
camera=$!
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_percent() {  # pid seconds
  local a b; a=$(ticks "$1"); sleep "$2"; b=$(ticks "$1")
  awk -v d=$((b - a)) -v hz="$(getconf CLK_TCK)" -v s="$2" 'BEGIN { printf "%.1f", 100 * d / hz / s }'
}
for mode in encode passthrough; do
  mkdir -p "$work/$mode"
  tail=""; [ "$mode" = passthrough ] && tail=" ! rtph264depay ! h264parse"
  printf '[camera]\nsource=rtspsrc location=rtsp://127.0.0.1:%s/cam protocols=tcp latency=0%s\n' "$rtsp_in" "$tail" >"$work/$mode/cam.conf"
  for r in $(seq "$runs"); do
    build-release/src/camrelay --listen 127.0.0.1 --port "$port" --rtsp-port "$rtsp_out" --pipelines "$work/$mode" >/dev/null 2>&1 &
    pid=$!
    wait_live "$port" cam
    idle=$(cpu_percent "$pid" 10)
    pids=()
    for _ in $(seq "$clients"); do
      ffmpeg -v quiet -rtsp_transport tcp -i "rtsp://127.0.0.1:$rtsp_out/cam" -c copy -f null - &
      pids+=($!)
    done
    sleep 3
    watched=$(cpu_percent "$pid" 10)
    kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true
    echo "mode=$mode run=$r service_cpu_no_rtsp_client=$idle% service_cpu_${clients}_rtsp_clients=$watched%"
    kill "$pid"; wait "$pid" || true
  done
done
