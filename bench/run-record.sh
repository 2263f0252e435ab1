#!/usr/bin/env bash
# What recording costs the service (issue 11): median service CPU over a 10 s
# window per scenario, each on a fresh release service with its own data dir.
#   demo-idle           the 720p30 demo camera, nobody watching, not recording
#   demo-record         the same, recording MP4 (one x264 encoder)
#   demo-record-rtsp    recording + 2 RTSP clients (still one encoder)
#   demo-rtsp           2 RTSP clients only
#   demo-record-mkv     recording MJPEG in Matroska (no encoder)
#   pass-idle           an RTSP H.264 720p30 camera, passthrough, nobody watching
#   pass-record         the same, recording (no decoder, no encoder)
#   four-record         4 RTSP H.264 720p30 cameras recorded, nobody watching
# and, while demo-record runs, 10 MJPEG viewers' frame rate (fps_median).
#   bench/run-record.sh                RUNS=3 by default; SCENARIOS="demo-record pass-record" to pick
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-3}
scenarios=${SCENARIOS:-"demo-idle demo-record demo-record-rtsp demo-rtsp demo-record-mkv pass-idle pass-record four-record"}
port=${PORT:-18093}; rtsp_in=${RTSP_PORT:-18565}; rtsp_out=${RTSP_OUT_PORT:-18575}  # cameras on rtsp_in .. rtsp_in+3
work=$(mktemp -d)
cameras=()
trap 'kill "${cameras[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
for i in 0 1 2 3; do
  build-release/tests/camrelay-test-rtsp-camera --port $((rtsp_in + i)) --codec h264 --width 1280 --height 720 --fps 30 >/dev/null 2>&1 &
  cameras+=($!)
done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_percent() {  # pid seconds
  local a b; a=$(ticks "$1"); sleep "$2"; b=$(ticks "$1")
  awk -v d=$((b - a)) -v hz="$(getconf CLK_TCK)" -v s="$2" 'BEGIN { printf "%.1f", 100 * d / hz / s }'
}
median() { sort -n | awk '{v[NR]=$1} END { if (NR % 2) print v[(NR+1)/2]; else printf "%.1f\n", (v[NR/2]+v[NR/2+1])/2 }'; }

# camera_file DIR NAME SOURCE RECORD-MODE [FORMAT]
camera_file() {
  printf '[camera]\nsource=%s\n[record]\nmode=%s\nformat=%s\nsegment=60\n' "$3" "$4" "${5:-mp4}" >"$1/$2.conf"
}
demo_source=$(sed -n 's/^source=//p' pipelines/demo.conf)
rtsp_source() { echo "rtspsrc location=rtsp://127.0.0.1:$((rtsp_in + $1))/cam protocols=tcp latency=0 ! rtph264depay"; }

setup() {  # scenario -> pipelines dir with the cameras
  local dir="$work/$1"; rm -rf "$dir"; mkdir -p "$dir/pipelines"
  case $1 in
    demo-idle|demo-rtsp) camera_file "$dir/pipelines" cam "$demo_source" off ;;
    demo-record|demo-record-rtsp) camera_file "$dir/pipelines" cam "$demo_source" always ;;
    demo-record-mkv) camera_file "$dir/pipelines" cam "$demo_source" always mkv ;;
    pass-idle) camera_file "$dir/pipelines" cam "$(rtsp_source 0)" off ;;
    pass-record) camera_file "$dir/pipelines" cam "$(rtsp_source 0)" always ;;
    four-record) for i in 0 1 2 3; do camera_file "$dir/pipelines" "cam$i" "$(rtsp_source $i)" always; done ;;
  esac
  # the demo camera's width/height/framerate
  case $1 in demo-*) for f in "$dir"/pipelines/*.conf; do sed -i 's/^\[record\]/width=1280\nheight=720\nframerate=30\n[record]/' "$f"; done ;; esac
  echo "$dir"
}

for scenario in $scenarios; do
  results=()
  for _ in $(seq "$runs"); do
    dir=$(setup "$scenario")
    build-release/src/camrelay --listen 127.0.0.1 --port "$port" --rtsp-port "$rtsp_out" --config "$bench_config" \
      --pipelines "$dir/pipelines" --data "$dir/data" >"$dir/out" 2>&1 &
    pid=$!
    first=cam; [ "$scenario" = four-record ] && first=cam0
    wait_live "$port" "$first"
    kill -0 "$pid" 2>/dev/null || { echo "scenario=$scenario: the service exited:"; cat "$dir/out"; exit 1; }
    clients=()
    if [[ $scenario == *rtsp* ]]; then
      for _ in 1 2; do
        ffmpeg -v quiet -rtsp_transport tcp -i "rtsp://127.0.0.1:$rtsp_out/cam" -c copy -f null - &
        clients+=($!)
      done
      sleep 3
    fi
    sleep 3  # recording started, first segment open
    results+=("$(cpu_percent "$pid" 10)")
    if [ "$scenario" = demo-record ]; then
      build-release/bench/camrelay-mjpeg-load --port "$port" --camera cam --viewers 10 --duration 10 | grep fps_median || true
    fi
    if [ ${#clients[@]} -gt 0 ]; then kill "${clients[@]}" 2>/dev/null || true; wait "${clients[@]}" 2>/dev/null || true; fi
    kill "$pid"; wait "$pid" || true
    recorded=$( (find "$dir/data/recordings" -type f \( -name '*.mp4' -o -name '*.mkv' \) 2>/dev/null || true) | wc -l)
    echo "scenario=$scenario cpu=${results[-1]}% files=$recorded"
  done
  echo "== $scenario median_cpu=$(printf '%s\n' "${results[@]}" | median)% (runs=$runs)"
done
