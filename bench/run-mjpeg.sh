#!/usr/bin/env bash
# MJPEG fan-out benchmark on the embedded demo camera (1280x720 at 30 fps).
#   bench/run-mjpeg.sh [N ...]        default: 1 100 1000 viewers, 3 runs each
# Starts a fresh release-built service for every run (so peak RSS is that run's),
# loads it with bench's viewers on loopback and prints one line per run.
# SERVICE_ARGS: more service arguments (e.g. "--pipelines DIR" for a demo with jpeg-chroma=auto).
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-3}
port=${PORT:-18090}
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(1 100 1000)
for n in "${counts[@]}"; do
  for r in $(seq "$runs"); do
    echo "== N=$n run $r"
    load_fresh_service "$port" demo "--rtsp-port -1 ${SERVICE_ARGS:-}" --viewers "$n" --warmup 3 --duration "${DURATION:-10}"
  done
done
