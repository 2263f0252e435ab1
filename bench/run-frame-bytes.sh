#!/usr/bin/env bash
# Bytes per JPEG of the demo camera (1280x720, 30 fps, q80) for each jpeg-chroma
# value: median / min / max over FRAMES (default 150) parts of one MJPEG stream.
#   bench/run-frame-bytes.sh [CHROMA ...]     default: auto 420
# A fresh release service per value, on pipelines/demo.conf plus jpeg-chroma=CHROMA.
source "$(dirname "$0")/lib.sh"
frames=${FRAMES:-150}
port=${PORT:-18091}
values=("$@"); [ ${#values[@]} -gt 0 ] || values=(auto 420)
for chroma in "${values[@]}"; do
  dir=$(mktemp -d)
  mkdir -p "$dir/pipelines"
  { cat pipelines/demo.conf; echo "jpeg-chroma=$chroma"; } >"$dir/pipelines/demo.conf"
  build-release/src/camrelay --listen 127.0.0.1 --port "$port" --rtsp-port -1 --pipelines "$dir/pipelines" \
    --data "$dir/data" >/dev/null 2>&1 &
  pid=$!
  wait_live "$port" demo
  # Every part carries Content-Length: the JPEG's own size.
  curl -s -N "localhost:$port/api/cameras/demo/stream" | grep -a -o -m "$frames" 'Content-Length: [0-9]*' |
    awk '{print $2}' | sort -n >"$dir/sizes" || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  n=$(wc -l <"$dir/sizes")
  awk -v chroma="$chroma" -v n="$n" '{v[NR]=$1} END {
    if (n == 0) { print "jpeg-chroma=" chroma ": no frames"; exit }
    m = (n % 2) ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2
    printf "jpeg-chroma=%s frames=%d median_bytes=%d min=%d max=%d\n", chroma, n, m, v[1], v[n] }' "$dir/sizes"
  rm -rf "$dir"
done
