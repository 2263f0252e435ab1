#!/usr/bin/env bash
# Two builds side by side under the same machine load (the fairest comparison
# on a shared machine): two services on the demo camera, N MJPEG viewers each,
# loaded at the same time; prints each one's fps and CPU.
#   bench/run-paired.sh BASE_BUILD_DIR NEW_BUILD_DIR [N]   (release build dirs; default N=100)
# e.g. a copy of an older commit: git archive REV | tar -x -C /tmp/old && (cd /tmp/old && meson setup build-release --buildtype=release && ninja -C build-release)
set -euo pipefail
B=$1 T=$2 n=${3:-100}
cfg=$(mktemp)
printf '[limits]\nmax-connections-per-address=1000000\n' >"$cfg"
$B/src/camrelay --listen 127.0.0.1 --port 18093 --config $cfg --rtsp-port -1 >/dev/null 2>&1 & bp=$!
$T/src/camrelay --listen 127.0.0.1 --port 18094 --config $cfg --rtsp-port -1 >/dev/null 2>&1 & tp=$!
sleep 4
$B/bench/camrelay-mjpeg-load --port 18093 --camera demo --pid $bp --viewers $n --warmup 3 --duration 10 > "$cfg.base" &
l1=$!
$T/bench/camrelay-mjpeg-load --port 18094 --camera demo --pid $tp --viewers $n --warmup 3 --duration 10 > "$cfg.new" &
l2=$!
wait $l1 $l2 || true
echo "base: $(grep -E 'fps_median|cpu' "$cfg.base" | tr '\n' ' ')"
echo "new:  $(grep -E 'fps_median|cpu' "$cfg.new" | tr '\n' ' ')"
kill $bp $tp; wait $bp $tp 2>/dev/null || true
rm -f "$cfg" "$cfg.base" "$cfg.new"
