#!/usr/bin/env bash
# Run a built bundle (dist/cockpit) the way a closed-network machine would: no network
# at all (a new network namespace with `unshare -n`), empty home, cache and data folders.
# Checks: the demo is written, `validate` passes, `export --png` (offscreen) and
# `export --html` work, and the HTML asks for nothing on the network.
set -euo pipefail
bundle="${1:-dist/cockpit}"
exe="$bundle/cockpit"
[ -x "$exe" ] || { echo "smoke: no bundle at $bundle (scripts/build_bundle.sh)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
isolate=(unshare -n)
if ! unshare -n true 2>/dev/null; then
  echo "smoke: cannot make a network namespace here (needs root or user namespaces)" >&2
  exit 2
fi
run() {
  env -i PATH=/usr/bin:/bin HOME="$work/home" COCKPIT_CACHE_DIR="$work/cache" \
      COCKPIT_DATA_DIR="$work/data" QT_QPA_PLATFORM=offscreen LANG=C.UTF-8 \
      "${isolate[@]}" "$exe" "$@"
}
mkdir -p "$work/home"
run demo --out "$work/demo.duckdb" --incidents 20000 2>"$work/demo.log"
run validate "$work/demo.duckdb" > "$work/validate.txt"
grep -q "示范县" "$work/validate.txt"
run export "$work/demo.duckdb" --png "$work/cockpit.png" --size 1920x1080 2>"$work/png.log"
python3 - "$work/cockpit.png" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(24)
assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", head[16:24])
assert (w, h) == (1920, 1080), (w, h)
PY
run export "$work/demo.duckdb" --html "$work/map.html" 2>"$work/html.log"
# a plain link (Leaflet's attribution) is fine; anything the page would load is not
if grep -Eio '<(script|img|iframe)[^>]+src="https?://|<link[^>]+href="https?://|url\(["'"'"']?https?://' \
     "$work/map.html" | head -3 | grep -q .; then
  echo "smoke: the HTML map loads something from the network" >&2
  exit 1
fi
echo "smoke: bundle OK offline (demo, validate, export --png, export --html)" >&2
