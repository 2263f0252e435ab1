#!/usr/bin/env bash
# Four RTSP IP cameras (H.264, 1280x720 at 30 fps, each served by its own
# camrelay-test-rtsp-camera) relayed by one service with NOBODY watching:
# the service's CPU, in % of one core (issue 11: "JPEG only while someone
# looks"; before it, the service decoded and JPEG-encoded all four, 43 %).
#   bench/run-h264-idle.sh            3 runs (RUNS), 10 s each (DURATION)
#   CAMRELAY=/path/to/camrelay bench/run-h264-idle.sh   measures another build (e.g. main's, for "before")
#   RTSP_CLIENTS=1 ...                one RTSP client per camera (passthrough, still no JPEG)
# The cameras run for the whole script; a fresh service starts for every run.
# One line per run, then the median.
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-3}
port=${PORT:-18093}
rtsp_port=${RTSP_PORT:-18564}  # cameras on rtsp_port .. rtsp_port+3
out_port=${OUT_PORT:-18574}    # the service's RTSP re-stream
camrelay=${CAMRELAY:-build-release/src/camrelay}
duration=${DURATION:-10}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
mkdir "$work/pipelines"
for i in 0 1 2 3; do
  build-release/tests/camrelay-test-rtsp-camera --port $((rtsp_port + i)) --codec h264 --width 1280 --height 720 --fps 30 \
    >"$work/camera$i.log" 2>&1 &
  pids+=($!)
  cat >"$work/pipelines/cam$i.conf" <<CONF
[camera]
name=RTSP H.264 720p30 #$i
source=rtspsrc location=rtsp://127.0.0.1:$((rtsp_port + i))/cam protocols=tcp latency=0 ! rtph264depay ! h264parse
quality=80
CONF
done

# cpu_seconds PID: user + system time of the process so far.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }

# An older build (for "before") may not know --data.
data_arg=(); "$camrelay" --help 2>&1 | grep -q -- '--data' && data_arg=(--data "$work/data")

results=()
for r in $(seq "$runs"); do
  "$camrelay" --listen 127.0.0.1 --port "$port" --rtsp-port "$out_port" --config "$bench_config" \
    --pipelines "$work/pipelines" "${data_arg[@]}" >"$work/service.log" 2>&1 &
  service=$!
  pids+=("$service")
  for i in 0 1 2 3; do wait_live "$port" "cam$i"; done
  clients=()
  if [ "${RTSP_CLIENTS:-0}" = 1 ]; then
    for i in 0 1 2 3; do
      gst-launch-1.0 -q rtspsrc location="rtsp://127.0.0.1:$out_port/cam$i" protocols=tcp latency=0 ! fakesink >/dev/null 2>&1 &
      clients+=($!)
    done
    sleep 3
  fi
  c0=$(cpu_seconds "$service")
  sleep "$duration"
  c1=$(cpu_seconds "$service")
  jpeg=$(curl -sf "localhost:$port/api/cameras" | grep -o '"jpeg":{"active":[a-z]*' | sort | uniq -c | tr -s ' ' | tr '\n' ' ' || true)
  cpu=$(awk -v a="$c0" -v b="$c1" -v d="$duration" 'BEGIN { printf "%.1f", (b - a) * 100 / d }')
  echo "run $r: service CPU ${cpu} % of a core over ${duration} s (4 cameras; ${jpeg:-jpeg state not reported})"
  results+=("$cpu")
  for c in "${clients[@]}"; do kill "$c" 2>/dev/null || true; done
  kill "$service" 2>/dev/null || true
  wait "$service" || true
done
printf '%s\n' "${results[@]}" | sort -g | awk '{ v[NR] = $1 } END { printf "median: %.1f %% of a core (%d runs)\n", v[int((NR + 1) / 2)], NR }'
