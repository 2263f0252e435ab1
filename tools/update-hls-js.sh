#!/usr/bin/env bash
# Re-vendors hls.js (the HLS player the viewer page uses where the browser has
# no native HLS) from npm, checked against the registry's integrity:
#   tools/update-hls-js.sh [VERSION]     (default: the version vendored now, 1.7.4)
# Writes web/vendor/hls.light.min.js (dist/hls.light.min.js: no subtitles,
# alternate audio or DRM, which camrelay does not serve) and
# web/vendor/hls.js-LICENSE (Apache-2.0). Both are compiled into the binary
# (data/camrelay.gresource.xml) and served as /vendor/<file>. Needs npm and
# openssl (tools/deps.sh test).
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-1.7.4}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "update-hls-js.sh: not a version: \"$version\" (e.g. 1.7.4)" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

expected="$(npm view "hls.js@$version" dist.integrity)"
if [[ "$expected" != sha512-* ]]; then
  echo "update-hls-js.sh: npm gives no sha512 integrity for hls.js@$version (got \"$expected\")" >&2
  exit 1
fi
(cd "$work" && npm pack --silent "hls.js@$version" >/dev/null)
tarball="$work/hls.js-$version.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ "$actual" != "$expected" ]]; then
  echo "update-hls-js.sh: hls.js-$version.tgz does not match the registry's integrity" >&2
  echo "  expected $expected" >&2
  echo "  got      $actual" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work" package/dist/hls.light.min.js package/LICENSE
mkdir -p web/vendor
install -m 0644 "$work/package/dist/hls.light.min.js" web/vendor/hls.light.min.js
install -m 0644 "$work/package/LICENSE" web/vendor/hls.js-LICENSE
echo "hls.js $version vendored ($expected): web/vendor/hls.light.min.js, web/vendor/hls.js-LICENSE"
