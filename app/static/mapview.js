/* Map preview of one screening (/api/v1/screenings/{id}/map). The page holds no script of
   its own: everything drawn comes from the JSON block #map-data, read with JSON.parse. Names
   from layer data are shown as text (textContent), and escaped where Leaflet only takes HTML
   (the layer control, the attribution). */
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("map-data").textContent);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const textNode = (s) => {
    const el = document.createElement("span");
    el.textContent = s;
    return el;
  };

  const map = L.map("map", { preferCanvas: true });
  window.redlinePreview = map; // for tests and power users
  const control = L.control.layers(null, null, { collapsed: false });
  if (data.tiles) {
    const tiles = L.tileLayer(data.tiles.url, { attribution: esc(data.tiles.attribution) }).addTo(map);
    control.addBaseLayer(tiles, esc(data.tiles.name));
  }
  for (const overlay of data.overlays) {
    const layer = overlay.image
      ? L.imageOverlay(overlay.image.url, overlay.image.bounds, { opacity: overlay.image.opacity })
      : L.geoJSON(overlay.geojson, {
        style: () => overlay.style,
        onEachFeature: (f, l) => {
          const tip = f.properties && f.properties.tooltip;
          if (tip) l.bindTooltip(textNode(tip), { sticky: true });
        },
      });
    layer.addTo(map);
    control.addOverlay(layer, esc(overlay.name));
  }
  control.addTo(map);
  L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);
  map.fitBounds(data.bounds);
  document.body.dataset.ready = "1";
})();
