// The console's fleet map (Leaflet from npm, as on the visitor map): every touchpoint as a marker
// coloured by its health and carrying the health's symbol, so markers differ without colour too.
// A marker's name comes from the touchpoint's entry in the list below the map, which is the page
// without JavaScript; the JSON block adds only positions, zone shapes and the health. Tab reaches
// one marker, the arrow keys the others (map-keys.js).
const L = window.L;
const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

function markerFor(point) {
  const entry = document.getElementById(point.id);
  const link = entry.querySelector("a");
  const pin = document.createElement("span");
  pin.className = `fleet-pin health-${point.health}`;
  pin.textContent = point.mark;
  const marker = L.marker([point.lat, point.lon], {
    icon: L.divIcon({ html: pin, className: "map-marker", iconSize: [28, 28] }),
    keyboard: true,
    riseOnHover: true,
  });
  const label = entry.textContent.replace(/\s+/g, " ").trim();
  marker.on("add", () => marker.getElement().setAttribute("aria-label", label));
  marker.on("click", () => window.location.assign(link.href));
  marker.on("keypress", (event) => {
    if (event.originalEvent.key === "Enter") window.location.assign(link.href);
  });
  return marker;
}

function zoneLayer(zone) {
  return L.geoJSON(zone.geometry, { interactive: false, className: "map-zone" }).bindTooltip(
    zone.name,
    { permanent: true, direction: "center", className: "map-zone-label", pane: "zone-labels" },
  );
}

function draw(container, data) {
  const labels = container.dataset;
  const map = L.map(container, {
    attributionControl: false,
    zoomControl: false,
    zoomAnimation: !still,
    fadeAnimation: !still,
    maxZoom: 19,
    scrollWheelZoom: false,
  });
  // Zone names lie under the markers (Leaflet's marker pane is at 600), not over them.
  map.createPane("zone-labels").style.zIndex = "450";
  L.control.zoom({ zoomInTitle: labels.zoomIn, zoomOutTitle: labels.zoomOut }).addTo(map);
  if (data.tiles) L.tileLayer(data.tiles, { maxZoom: 19 }).addTo(map);
  const zones = data.zones.map(zoneLayer);
  const points = data.points.filter((point) => document.getElementById(point.id)?.querySelector("a"));
  const markers = points.map(markerFor);
  for (const layer of [...zones, ...markers]) layer.addTo(map);
  const bounds = L.featureGroup([...zones, ...markers]).getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [28, 28], maxZoom: 18, animate: false });
  else map.setView([data.center.lat, data.center.lon], 16, { animate: false });
  // Only now, with a view, has Leaflet put the markers on the page.
  if (markers.length) window.mapKeys.rove(markers, points.map((point) => point.id), labels.position);
}

const block = document.getElementById("map-data");
const figure = document.getElementById("map-figure");
if (L && block && figure) {
  figure.hidden = false;
  draw(document.getElementById("map"), JSON.parse(block.textContent));
}
