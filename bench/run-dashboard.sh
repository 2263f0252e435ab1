#!/usr/bin/env bash
# The dashboard with 16 cameras (320x240@15 test pattern) open in headless
# Chromium (bench/dashboard-load.mjs, playwright-core from tests/browser):
# service CPU (median of 1 s samples over DURATION s), frames drawn per camera
# per second in the page, and the time from Apply (PATCH width/height) to the
# first frame of the new size drawn in the tile. Two passes: the dashboard's
# default tile rate (8 fps) and every frame (?fps=0).
#   bench/run-dashboard.sh                 DURATION=30 CAMERAS=16 APPLIES=5 by default
source "$(dirname "$0")/lib.sh"
[ -d tests/browser/node_modules/playwright-core ] || tools/deps.sh test
duration=${DURATION:-30}; count=${CAMERAS:-16}; applies=${APPLIES:-5}
port=${PORT:-18097}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for pass in default 0; do
  rm -rf "$work/pipelines"; mkdir -p "$work/pipelines"
  for i in $(seq -w 1 "$count"); do
    printf '[camera]\nname=Camera %s\nsource=videotestsrc is-live=true pattern=ball\nwidth=320\nheight=240\nframerate=15\n' "$i" \
      >"$work/pipelines/cam$(printf %02d "$((10#$i))").conf"
  done
  build-release/src/camrelay --listen 127.0.0.1 --port "$port" --rtsp-port -1 --config "$bench_config" \
    --pipelines "$work/pipelines" --data "$work/data" >"$work/out" 2>&1 &
  pid=$!
  wait_live "$port" cam01
  echo "== pass: tile fps $pass"
  fps_arg=(); [ "$pass" = default ] || fps_arg=(--fps "$pass")
  node bench/dashboard-load.mjs --url "http://127.0.0.1:$port" --pid "$pid" --duration "$duration" --applies "$applies" "${fps_arg[@]}"
  kill "$pid"; wait "$pid" || true; pid=
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)  ($(nproc) cores)"
