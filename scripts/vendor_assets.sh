#!/usr/bin/env bash
# Re-fetch the vendored front-end assets from the npm registry and verify they match the
# committed copies (or, with --update, replace them). Needs npm; not needed at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
LEAFLET=1.9.4
dest=app/static/vendor/leaflet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "leaflet@$LEAFLET" >/dev/null && tar xzf "leaflet-$LEAFLET.tgz")
src="$tmp/package"
if [ "${1:-}" = "--update" ]; then
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
  echo "vendored assets match leaflet@$LEAFLET"
fi
