#!/usr/bin/env bash
# MJPEG over HTTPS against plain HTTP, same client code (camrelay-https-load,
# GIO; GnuTLS for TLS), on the embedded demo camera (1280x720 at 30 fps).
#   bench/run-https.sh [N ...]        default: 100 viewers, 3 runs of each scheme
# A self-signed P-256 certificate is made once in build-release/bench-tls
# (openssl: tools/deps.sh test). Every run starts a fresh release service.
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "run-https.sh needs openssl (tools/deps.sh test)" >&2; exit 1; }
runs=${RUNS:-3}
port=${PORT:-18443}
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(100)
dir=build-release/bench-tls
mkdir -p "$dir"
[ -f "$dir/cert.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj /CN=localhost -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
printf '[server]\ntls-certificate=%s\ntls-key=%s\n[limits]\nmax-connections-per-address=1000000\n' \
  "$PWD/$dir/cert.pem" "$PWD/$dir/key.pem" >"$dir/https.ini"

# run SCHEME N: one fresh service, one load.
run() {
  local scheme=$1 n=$2 config=$bench_config tls=0
  [ "$scheme" = https ] && config=$dir/https.ini tls=1
  build-release/src/camrelay --listen 127.0.0.1 --port "$port" --config "$config" --rtsp-port -1 >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sfk "$scheme://127.0.0.1:$port/api/cameras/demo" | grep -q '"state":"live"' && break; sleep 0.1; done
  sleep 2
  build-release/bench/camrelay-https-load --port "$port" --camera demo --viewers "$n" --warmup 3 \
    --duration "${DURATION:-10}" --pid "$pid" --tls "$tls" || true
  kill "$pid" 2>/dev/null || echo "run-https.sh: the service (pid $pid) was gone before the end of the load"
  wait "$pid" || true
}

for n in "${counts[@]}"; do
  for r in $(seq "$runs"); do
    for scheme in http https; do
      echo "== $scheme N=$n run $r"
      run "$scheme" "$n"
    done
  done
done
