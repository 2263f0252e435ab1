#!/usr/bin/env bash
# Installs what camrelay needs on Debian 12, only what is missing (fast when all is there).
#   tools/deps.sh build         - build and run the service (and the bench scripts)
#   tools/deps.sh test          - also what the test suite needs (Chromium, Node, ffmpeg, playwright-core)
#   tools/deps.sh fuzz          - build and test, plus clang and libFuzzer (fuzz/run.sh)
#   tools/deps.sh --list [KIND] - print the Debian packages KIND (default: every kind) installs, one a line
#                                 (tests/deps checks every element and program we use against this list)
set -euo pipefail
cd "$(dirname "$0")/.."

# gstreamer1.0-x: clockoverlay/textoverlay/timeoverlay (demo camera, offline
# picture, RTSP test camera). gstreamer1.0-tools: gst-inspect-1.0 (the check
# below) and gst-launch-1.0 (docs). gstreamer1.0-libcamera: the Pi example.
# curl: bench scripts. nettle-dev: PBKDF2/HMAC for passwords and stream tokens.
# libgraphviz-dev: Graphviz's library (libgvc, cgraph) renders pipeline graphs as SVG.
# gstreamer1.0-nice: the ICE elements webrtcbin needs for WebRTC (WHEP) viewers.
build_packages=(meson ninja-build pkg-config g++
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-x gstreamer1.0-libcamera
  libsoup-3.0-dev libjson-glib-dev libgstrtspserver-1.0-dev nettle-dev libgraphviz-dev catch2 curl gstreamer1.0-nice)
# systemd: systemd-analyze, systemd-sysusers and systemd-tmpfiles check the
# installed unit and files (tests/install; Priority: important, so containers may lack it).
# openssl: test certificates for HTTPS/WSS (tests/integration/test_tls.cpp).
# python3-prometheus-client: parses GET /metrics as Prometheus does (tests/support/parse_metrics.py).
# nginx: the caching reverse proxy in front of HLS (docs/scaling.md, its test and bench);
# on Debian 12 the binary is in "nginx" (nginx-light is a metapackage).
# python3-yaml: reads docs/openapi.yaml for the route coverage test (tests/openapi/operations.py).
test_packages=(chromium nodejs npm fonts-dejavu-core ffmpeg systemd openssl python3-yaml python3-prometheus-client nginx)
# libclang-rt-14-dev holds libclang_rt.fuzzer (only a Recommends of clang's own packages).
fuzz_packages=(clang libclang-rt-14-dev)

if [ "${1:-}" = --list ]; then
  printf '%s\n' "${build_packages[@]}"
  case "${2:-all}" in test|fuzz|all) printf '%s\n' "${test_packages[@]}" ;; esac
  case "${2:-all}" in fuzz|all) printf '%s\n' "${fuzz_packages[@]}" ;; esac
  exit 0
fi
kind=${1:-build}

wanted=("${build_packages[@]}")
case "$kind" in test|fuzz) wanted+=("${test_packages[@]}") ;; esac
[ "$kind" = fuzz ] && wanted+=("${fuzz_packages[@]}")

missing=()
for p in "${wanted[@]}"; do
  # node may come from outside Debian (nvm, NodeSource): a working node+npm is enough.
  if [ "$p" = nodejs ] || [ "$p" = npm ]; then command -v "${p/nodejs/node}" >/dev/null && continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tools/deps.sh: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The demo camera must work after this script: check its elements, and name the
# Debian package of any that is missing (from the Gstreamer-Elements field of
# Debian's package metadata) instead of leaving a failed camera behind.
demo_elements() {
  sed -n 's/^source=//p' pipelines/demo.conf | tr '!' '\n' | awk '{print $1}' | grep -v '/' || true
}
element_package() {
  # shellcheck disable=SC2046  # one argument per package name
  apt-cache show --no-all-versions $(apt-cache pkgnames gstreamer1.0-) 2>/dev/null |
    awk -v e="$1" '/^Package:/ { p = $2 }
      /^Gstreamer-Elements:/ { n = split(substr($0, 21), a, /, */); for (i = 1; i <= n; i++) if (a[i] == e && !found) { print p; found = 1 } }' || true
}
absent=0
for e in $(demo_elements); do
  gst-inspect-1.0 --exists "$e" 2>/dev/null && continue
  absent=1
  pkg=$(element_package "$e")
  if [ -n "$pkg" ]; then hint="Debian package $pkg provides it: apt-get install $pkg"
  else hint="no Debian package lists it in its Gstreamer-Elements"; fi
  echo "tools/deps.sh: the demo camera needs the GStreamer element \"$e\", which is not installed; $hint" >&2
done
[ "$absent" -eq 0 ] || exit 1

if [ "$kind" != build ] && { [ ! -d tests/browser/node_modules/playwright-core ] ||
                             [ ! -d tests/browser/node_modules/@apidevtools/swagger-parser ]; }; then
  echo "tools/deps.sh: installing playwright-core and swagger-parser (npm)"
  (cd tests/browser && npm install --no-audit --no-fund --loglevel=error)
fi
