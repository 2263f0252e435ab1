#!/usr/bin/env bash
# HLS fan-out: camrelay's CPU with 1 and 200 live HLS clients (camrelay-hls-load),
# straight from camrelay and through Debian's nginx running data/nginx-camrelay.conf
# (nginx's own CPU reported apart: the sum of its worker processes).
#   bench/run-hls.sh [N ...]          default: 1 200 clients, 3 runs each (RUNS), 20 s windows (DURATION)
#   CAMERAS="encode passthrough"      which cameras (default both):
#     encode       the demo test pattern, 640x480 at 30 fps, H.264 encoded by camrelay for HLS
#     passthrough  an RTSP H.264 camera (camrelay-test-rtsp-camera, 640x480 at 30 fps, GOP 1 s): no encoder in camrelay
#   MODES="direct nginx"              with or without nginx in front (default both)
#   CAMRELAY=/path/to/camrelay        measures another build
# A fresh release-built service (and nginx) starts for every run; one JSON line per
# run from camrelay-hls-load, then the medians per (camera, mode, N).
source "$(dirname "$0")/lib.sh"
runs=${RUNS:-3}
port=${PORT:-18095}
nginx_port=${NGINX_PORT:-18096}
rtsp_port=${RTSP_PORT:-18584}
duration=${DURATION:-20}
camrelay=${CAMRELAY:-build-release/src/camrelay}
nginx=/usr/sbin/nginx  # Debian's nginx (tools/deps.sh); not always on PATH
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(1 200)
read -r -a cameras <<<"${CAMERAS:-encode passthrough}"
read -r -a modes <<<"${MODES:-direct nginx}"
[ -x "$nginx" ] || { echo "run-hls.sh: $nginx is missing (tools/deps.sh test installs nginx)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
mkdir -p "$work/encode" "$work/passthrough" "$work/nginx/tmp"
cat >"$work/encode/demo.conf" <<CONF
[camera]
name=Test pattern 640x480 at 30 fps
source=videotestsrc is-live=true pattern=ball
width=640
height=480
framerate=30
CONF
if [[ " ${cameras[*]} " == *" passthrough "* ]]; then
  build-release/tests/camrelay-test-rtsp-camera --port "$rtsp_port" --codec h264 --width 640 --height 480 --fps 30 \
    >"$work/camera.log" 2>&1 &
  pids+=($!)
fi
cat >"$work/passthrough/demo.conf" <<CONF
[camera]
name=RTSP H.264 640x480 at 30 fps
source=rtspsrc location=rtsp://127.0.0.1:$rtsp_port/cam protocols=tcp latency=0 ! rtph264depay ! h264parse
CONF

# The site file exactly as docs/scaling.md installs it, placeholders substituted,
# inside the minimal main config Debian's /etc/nginx/nginx.conf would provide.
sed -e "s|@CAMRELAY_ADDRESS@|127.0.0.1:$port|" -e "s|@LISTEN@|127.0.0.1:$nginx_port|" \
    -e "s|@CACHE_DIR@|$work/nginx/cache|" -e "s|@ACCESS_CACHE_DIR@|$work/nginx/access-cache|" \
    data/nginx-camrelay.conf >"$work/nginx/camrelay.conf"
left=$(grep -o '@[A-Z_]*@' "$work/nginx/camrelay.conf" | head -1 || true)
if [ -n "$left" ]; then
  echo "data/nginx-camrelay.conf has a placeholder this script does not fill: $left" >&2
  exit 2
fi
{
  [ "$(id -u)" = 0 ] && echo 'user root;'  # workers would run as nobody, who cannot enter $work
  cat <<CONF
worker_processes 1;
pid nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi; uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  include camrelay.conf;
}
CONF
} >"$work/nginx/nginx.conf"

# until_hls PORT: until the demo camera's playlist lists a segment (the HLS window starts on request).
until_hls() {
  for _ in $(seq 100); do curl -sf "localhost:$1/api/cameras/demo/hls/index.m3u8" | grep -q '\.ts' && return 0; sleep 0.2; done
  echo "run-hls.sh: no HLS segment from localhost:$1" >&2; return 1
}

results="$work/results"
for camera in "${cameras[@]}"; do
  for mode in "${modes[@]}"; do
    for n in "${counts[@]}"; do
      for r in $(seq "$runs"); do
        "$camrelay" --listen 127.0.0.1 --port "$port" --rtsp-port -1 --config "$bench_config" \
          --pipelines "$work/$camera" --data "$work/data" >"$work/service.log" 2>&1 &
        service=$!
        pids+=("$service")
        wait_live "$port" demo
        until_hls "$port" || true
        target=$port nginx_args=()
        if [ "$mode" = nginx ]; then
          rm -rf "$work/nginx/cache"
          "$nginx" -p "$work/nginx/" -c nginx.conf -e stderr -g 'daemon off;' 2>"$work/nginx.log" &
          ngx=$!
          pids+=("$ngx")
          for _ in $(seq 50); do curl -s -o /dev/null "localhost:$nginx_port/" && break; sleep 0.1; done
          workers=$(tr -s ' ' ',' <"/proc/$ngx/task/$ngx/children" | sed 's/,$//')  # its worker and cache processes
          target=$nginx_port nginx_args=(--nginx-pids "$workers")
        fi
        line=$(build-release/bench/camrelay-hls-load --port "$target" --origin-port "$port" --camera demo --clients "$n" \
                 --warmup 4 --duration "$duration" --pid "$service" "${nginx_args[@]}" || true)
        echo "camera=$camera mode=$mode N=$n run $r: $line"
        echo "$camera $mode $n $line" >>"$results"
        if [ "$mode" = nginx ]; then
          kill -QUIT "$ngx" 2>/dev/null || true  # graceful stop
          wait "$ngx" || true
        fi
        kill "$service" 2>/dev/null || true
        wait "$service" || true
      done
    done
  done
done

echo "== medians over $runs runs (CPU in % of one core; origin requests per segment produced)"
python3 - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    camera, mode, n, text = line.split(" ", 3)
    try:
        rows.setdefault((camera, mode, int(n)), []).append(json.loads(text))
    except ValueError:
        print(f"{camera} {mode} N={n}: no result ({text.strip()})")
for (camera, mode, n), rs in rows.items():
    med = lambda k: statistics.median(r[k] for r in rs)
    print(f"{camera:11} {mode:6} N={n:<4} camrelay_cpu={med('camrelay_cpu_pct'):.1f}% "
          f"nginx_cpu={med('nginx_cpu_pct'):.1f}% segment_requests_per_segment={med('origin_segment_requests_per_segment'):.2f} "
          f"playlist_requests={med('origin_playlist_requests'):.0f} gaps={sum(r['gaps'] for r in rs)} "
          f"errors={sum(r['errors'] for r in rs)} listed_to_received_p50={med('listed_to_received_ms_p50'):.0f}ms")
PY
