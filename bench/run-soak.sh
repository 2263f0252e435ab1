#!/usr/bin/env bash
# Soak (issue 9): 100,000 short connections of every kind against a fresh
# release-built service on the embedded demo camera (1280x720 at 30 fps), with a
# witness MJPEG viewer reading throughout; the service's fds and RSS before,
# during (stderr) and after a settle pause. One summary line per run, ending in
# TARGET MET / TARGET MISSED (no fd growth, RSS growth < 2 MiB, witness >= 29 fps).
#   bench/run-soak.sh [camrelay-soak options]      e.g. --connections 20000 --concurrency 100
#   RUNS=3        runs of the mixed soak (default 1)
#   PER_KIND=N    then each kind alone, N connections (e.g. 10000): which kind leaks
#   KINDS="keepalive ws"  the kinds PER_KIND runs (default: all seven)
#   PORT=18094
# The options go to build-release/bench/camrelay-soak (--help lists them); the
# defaults are --connections 100000 --concurrency 100 --held 100 --max-seconds 900.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-1}
port=${PORT:-18094}
export LOAD_TOOL=camrelay-soak
for r in $(seq "$runs"); do
  echo "== soak run $r: $*"
  load_fresh_service "$port" demo "--rtsp-port -1" "$@"
done
if [ -n "${PER_KIND:-}" ]; then
  for kind in ${KINDS:-keepalive mjpeg snapshot ws rst halfopen slow}; do
    echo "== soak kind=$kind connections=$PER_KIND"
    load_fresh_service "$port" demo "--rtsp-port -1" "$@" --kinds "$kind" --connections "$PER_KIND"
  done
fi
