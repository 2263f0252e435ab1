# Shared by the bench/run-*.sh scripts: a release build, and waiting for a camera.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tools/deps.sh build
[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release >/dev/null

# wait_live PORT CAMERA: until the camera is live (at most 10 s), then 2 s to settle.
wait_live() {
  for _ in $(seq 100); do curl -sf "localhost:$1/api/cameras/$2" | grep -q '"state":"live"' && break; sleep 0.1; done
  sleep 2
}

# load_fresh_service PORT CAMERA "SERVICE ARGS" LOAD-TOOL ARGS...: starts a fresh
# release service (so peak RSS is this run's), waits until the camera is live,
# runs camrelay-mjpeg-load (or build-release/bench/$LOAD_TOOL) against it with
# --pid, then stops it (if it is still there).
# Every bench client comes from 127.0.0.1: lift the per-address connection cap
# (256 by default) so a thousand viewers measure the fan-out, not the cap.
bench_config=build-release/bench.ini
printf '[limits]\nmax-connections-per-address=1000000\n' >"$bench_config"

load_fresh_service() {
  local port=$1 camera=$2 service_args=$3; shift 3
  # shellcheck disable=SC2086  # service_args is a list of words
  build-release/src/camrelay --listen 127.0.0.1 --port "$port" --config "$bench_config" $service_args >/dev/null 2>&1 &
  local pid=$!
  wait_live "$port" "$camera"
  "build-release/bench/${LOAD_TOOL:-camrelay-mjpeg-load}" --port "$port" --camera "$camera" --pid "$pid" "$@" || true
  kill "$pid" 2>/dev/null || echo "load_fresh_service: the service (pid $pid) was gone before the end of the load"
  wait "$pid" || true
}
