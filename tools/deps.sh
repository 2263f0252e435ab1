#!/usr/bin/env bash
# Installs what camrelay needs on Debian 12, only what is missing (fast when all is there).
#   tools/deps.sh build   - build and run the service
#   tools/deps.sh test    - also what the test suite needs (Chromium, Node, playwright-core)
set -euo pipefail
cd "$(dirname "$0")/.."

build_packages=(meson ninja-build pkg-config g++
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav
  libsoup-3.0-dev libjson-glib-dev libgstrtspserver-1.0-dev catch2)
test_packages=(chromium nodejs npm fonts-dejavu-core ffmpeg)

wanted=("${build_packages[@]}")
[ "${1:-build}" = test ] && wanted+=("${test_packages[@]}")

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

if [ "${1:-build}" = test ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "tools/deps.sh: installing playwright-core (npm)"
  (cd tests/browser && npm install --no-audit --no-fund --loglevel=error)
fi
