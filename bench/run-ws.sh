#!/usr/bin/env bash
# WebSocket viewers of the embedded demo camera (1280x720 at 30 fps), in both
# formats, plus the cost of viewers that stop reading.
#   bench/run-ws.sh [N ...]          default: 1 100 500 viewers, 3 runs each
#   STALLED=1 (default): one extra viewer that never reads, per run
# One line block per run from camrelay-mjpeg-load --ws FORMAT.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-3}
port=${PORT:-18093}
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(1 100 500)
for format in binary json; do
  for n in "${counts[@]}"; do
    for r in $(seq "$runs"); do
      echo "== format=$format N=$n run $r"
      load_fresh_service "$port" demo "--rtsp-port -1" --viewers "$n" --ws "$format" --stalled "${STALLED:-1}" \
        --warmup 3 --duration "${DURATION:-10}"
    done
  done
done
