#!/usr/bin/env bash
# Re-fetch the vendored front-end assets from the npm registry and verify they match the
# committed copies (or, with --update, replace them). Needs npm; not needed at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
LEAFLET=1.9.4
GEOMAN=2.17.0
dest=app/static/vendor/leaflet
gdest=app/static/vendor/geoman
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "leaflet@$LEAFLET" >/dev/null && tar xzf "leaflet-$LEAFLET.tgz")
mkdir -p "$tmp/geoman"
(cd "$tmp/geoman" && npm pack --silent "@geoman-io/leaflet-geoman-free@$GEOMAN" >/dev/null \
   && tar xzf ./*.tgz)
src="$tmp/package"
gsrc="$tmp/geoman/package"
if [ "${1:-}" = "--update" ]; then
  mkdir -p "$gdest"
  cp "$gsrc/dist/leaflet-geoman.min.js" "$gsrc/dist/leaflet-geoman.css" "$gdest/"
  cp "$gsrc/LICENSE" "$gdest/LICENSE"
  mkdir -p "$dest/images"
  cp "$src/dist/leaflet.js" "$src/dist/leaflet.css" "$dest/"
  cp "$src/dist/images/"*.png "$dest/images/"
  cp "$src/LICENSE" "$dest/LICENSE"
  echo "updated $dest from leaflet@$LEAFLET"
else
  for f in leaflet.js leaflet.css images/layers.png images/layers-2x.png images/marker-icon.png \
           images/marker-icon-2x.png images/marker-shadow.png; do
    cmp -s "$src/dist/$f" "$dest/$f" || { echo "MISMATCH: $dest/$f"; exit 1; }
  done
  cmp -s "$src/LICENSE" "$dest/LICENSE" || { echo "MISMATCH: LICENSE"; exit 1; }
  for f in leaflet-geoman.min.js leaflet-geoman.css; do
    cmp -s "$gsrc/dist/$f" "$gdest/$f" || { echo "MISMATCH: $gdest/$f"; exit 1; }
  done
  echo "vendored assets match leaflet@$LEAFLET and leaflet-geoman-free@$GEOMAN"
fi
