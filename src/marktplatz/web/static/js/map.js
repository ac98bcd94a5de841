// The visitor map (Leaflet from npm, loaded on this page only): the zones as polygons and the
// shops as markers, on the configured tiles or, without a tile URL, on a plain background — then
// the page asks no other site for anything. The texts of a marker (its name for screen readers,
// its popup) come from the shop's entry in the list below the map, which is the page without
// JavaScript; the JSON block adds only positions, shapes and the open state. Tab reaches one
// marker, the arrow keys the others (map-keys.js).
const L = window.L;
const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

function readData() {
  const block = document.getElementById("map-data");
  return block ? JSON.parse(block.textContent) : null;
}

function pinFor(shop) {
  const pin = document.createElement("span");
  pin.className = `map-pin cat-${shop.category}${shop.open ? " is-open" : ""}`;
  const icon = document.createElement("img");
  icon.src = shop.icon;
  icon.alt = "";
  pin.append(icon);
  if (shop.offers) {
    const count = document.createElement("span");
    count.className = "map-pin-offers";
    count.textContent = String(shop.offers);
    pin.append(count);
  }
  return pin;
}

function popupFor(entry) {
  const body = entry.querySelector(".map-entry-body").cloneNode(true);
  body.className = "map-popup";
  body.querySelector("h3")?.setAttribute("role", "presentation");
  return body;
}

function labelOf(entry) {
  const parts = [".map-entry-name", ".badge", ".map-offers-count"].map((selector) =>
    entry.querySelector(selector)?.textContent.replace(/\s+/g, " ").trim(),
  );
  return parts.filter(Boolean).join(", ");
}

function markerFor(shop, labels) {
  const entry = document.getElementById(shop.id);
  const size = shop.open ? 34 : 26;
  const marker = L.marker([shop.lat, shop.lon], {
    icon: L.divIcon({ html: pinFor(shop), className: "map-marker", iconSize: [size, size] }),
    keyboard: true,
    riseOnHover: true,
    zIndexOffset: shop.open ? 500 : 0,
  });
  marker.bindPopup(() => popupFor(entry), {
    autoPan: !still,
    closeButtonLabel: labels.close,
    maxWidth: 260,
  });
  marker.on("add", () => marker.getElement().setAttribute("aria-label", labelOf(entry)));
  // Escape or the close button: back to the marker the keyboard came from.
  marker.on("popupclose", () => marker.getElement()?.focus({ preventScroll: true }));
  return marker;
}

function zoneLayer(zone) {
  const layer = L.geoJSON(zone.geometry, { interactive: false, className: "map-zone" });
  layer.bindTooltip(zone.name, {
    permanent: true,
    direction: "center",
    className: "map-zone-label",
    pane: "zone-labels",
  });
  return layer;
}

function focusInto(popup) {
  // Keyboard users land in the popup (its link); the marker gets the focus back when it closes.
  const element = popup.getElement();
  element?.querySelector("a[href]:not(.leaflet-popup-close-button)")?.focus();
  const close = element?.querySelector(".leaflet-popup-close-button");
  close?.setAttribute("aria-label", popup.options.closeButtonLabel);
}

function draw(container, data) {
  const labels = container.dataset;
  const map = L.map(container, {
    attributionControl: false,
    zoomControl: false,
    zoomAnimation: !still,
    fadeAnimation: !still,
    markerZoomAnimation: !still,
    inertia: !still,
    zoomSnap: 0.25,
    maxZoom: 19,
    minZoom: 12,
    scrollWheelZoom: false,
  });
  // Zone names lie under the markers (Leaflet's marker pane is at 600), not over them.
  map.createPane("zone-labels").style.zIndex = "450";
  L.control.zoom({ zoomInTitle: labels.zoomIn, zoomOutTitle: labels.zoomOut }).addTo(map);
  if (data.tiles) L.tileLayer(data.tiles, { maxZoom: 19 }).addTo(map);
  const zones = data.zones.map(zoneLayer);
  const shops = data.shops.filter((shop) => document.getElementById(shop.id));
  const markers = shops.map((shop) => markerFor(shop, labels));
  for (const layer of [...zones, ...markers]) layer.addTo(map);
  const bounds = L.featureGroup([...zones, ...markers]).getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [28, 28], maxZoom: 18, animate: false });
  else map.setView([data.center.lat, data.center.lon], 16, { animate: false });
  // Only now, with a view, has Leaflet put the markers on the page.
  if (markers.length) window.mapKeys.rove(markers, shops.map((shop) => shop.id), labels.position);
  map.on("popupopen", (event) => {
    if (still) map.panTo(event.popup.getLatLng(), { animate: false });
    focusInto(event.popup);
  });
  // Leaflet hears Escape only while the map itself has the focus; in a popup's link, too.
  container.addEventListener("keydown", (event) => {
    if (event.key === "Escape") map.closePopup();
  });
  return map;
}

const data = readData();
const figure = document.getElementById("map-figure");
if (L && data && figure) {
  figure.hidden = false;
  draw(document.getElementById("map"), data);
}
