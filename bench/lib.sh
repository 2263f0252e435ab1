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
