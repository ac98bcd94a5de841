// The zone editor of the console (Leaflet from npm, as on the other maps; the drawing is ours:
// a few dozen lines over Leaflet's draggable markers, smaller than a drawing plugin and free of
// its toolbar). Click to set corners, close on the first corner or "Done"; drag corners, drag or
// click a middle handle to add one, double-click a corner or press Delete on it to remove it.
// Every change is written into the GeoJSON field, which the server reads — with or without this
// script — and typing into that field redraws the map.
const L = window.L;
const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
const DIGITS = 1e7; // the domain keeps positions to 7 decimals (about a centimetre)

function round(value) {
  return Math.round(value * DIGITS) / DIGITS;
}

function fill(text, n) {
  return text.replace("{n}", String(n));
}

class ZoneEditor {
  constructor(map, field, labels, status) {
    this.map = map;
    this.field = field;
    this.labels = labels;
    this.status = status;
    this.points = [];
    this.holes = [];
    this.closed = false;
    this.history = [];
    this.shape = null;
    this.handles = L.layerGroup().addTo(map);
    map.on("click", (event) => this.add(event.latlng));
  }

  load(text) {
    // A Polygon from the field; anything else stays for the server to explain.
    let geometry;
    try {
      geometry = JSON.parse(text);
    } catch {
      return false;
    }
    const rings = geometry?.type === "Polygon" ? geometry.coordinates : null;
    if (!Array.isArray(rings) || !Array.isArray(rings[0]) || rings[0].length < 4) return false;
    this.points = rings[0].slice(0, -1).map(([lon, lat]) => L.latLng(lat, lon));
    this.holes = rings.slice(1);
    this.closed = true;
    this.render(false);
    return true;
  }

  remember() {
    this.history.push({ points: this.points.map((p) => L.latLng(p.lat, p.lng)), closed: this.closed });
  }

  add(latlng) {
    if (this.closed) return;
    this.remember();
    this.points.push(latlng);
    this.render();
  }

  finish() {
    if (this.closed || this.points.length < 3) return;
    this.remember();
    this.closed = true;
    this.render();
  }

  undo() {
    const last = this.history.pop();
    if (!last) return;
    this.points = last.points;
    this.closed = last.closed;
    this.render();
  }

  clear() {
    this.remember();
    this.points = [];
    this.holes = [];
    this.closed = false;
    this.render();
  }

  remove(index) {
    if (this.closed && this.points.length <= 3) return;
    this.remember();
    this.points.splice(index, 1);
    this.render();
  }

  geometry() {
    const ring = this.points.map((p) => [round(p.lng), round(p.lat)]);
    return { type: "Polygon", coordinates: [[...ring, ring[0]], ...this.holes] };
  }

  drawShape() {
    if (this.shape) this.shape.remove();
    const options = { className: "zone-own", interactive: false };
    this.shape = this.closed
      ? L.polygon(this.points, options).addTo(this.map)
      : L.polyline(this.points, options).addTo(this.map);
  }

  render(write = true) {
    this.drawShape();
    this.handles.clearLayers();
    this.points.forEach((point, index) => this.handles.addLayer(this.corner(point, index)));
    if (this.closed) this.points.forEach((_, index) => this.handles.addLayer(this.middle(index)));
    if (write) this.field.value = this.closed ? JSON.stringify(this.geometry(), null, 2) : "";
    const n = this.points.length;
    const labels = this.labels;
    this.status.textContent = this.closed
      ? fill(labels.statusClosed, n)
      : n
        ? fill(labels.statusDrawing, n)
        : labels.statusEmpty;
  }

  corner(point, index) {
    const first = index === 0 && !this.closed && this.points.length >= 3;
    const marker = L.marker(point, {
      icon: L.divIcon({ className: `zone-corner${first ? " is-first" : ""}`, iconSize: [18, 18] }),
      draggable: true,
      keyboard: true,
      autoPanOnFocus: false,
    });
    const label = fill(this.labels.corner, index + 1);
    marker.on("add", () => {
      marker.getElement().setAttribute("aria-label", label);
      marker.getElement().dataset.corner = String(index);
    });
    marker.on("click", () => (first ? this.finish() : null));
    marker.on("dblclick contextmenu", (event) => {
      L.DomEvent.preventDefault(event.originalEvent);
      this.remove(index);
    });
    marker.on("keydown", (event) => {
      if (event.originalEvent.key === "Delete" || event.originalEvent.key === "Backspace") {
        this.remove(index);
      }
    });
    marker.on("dragstart", () => this.remember());
    marker.on("drag", () => {
      this.points[index] = marker.getLatLng();
      this.drawShape();
    });
    marker.on("dragend", () => this.render());
    return marker;
  }

  middle(index) {
    const next = (index + 1) % this.points.length;
    const a = this.map.latLngToLayerPoint(this.points[index]);
    const b = this.map.latLngToLayerPoint(this.points[next]);
    const at = this.map.layerPointToLatLng(a.add(b).divideBy(2));
    const marker = L.marker(at, {
      icon: L.divIcon({ className: "zone-middle", iconSize: [12, 12] }),
      draggable: true,
      keyboard: true,
      autoPanOnFocus: false,
    });
    marker.on("add", () => marker.getElement().setAttribute("aria-label", this.labels.addCorner));
    const insert = () => {
      this.remember();
      this.points.splice(index + 1, 0, marker.getLatLng());
    };
    marker.on("click keypress", (event) => {
      if (event.type === "keypress" && event.originalEvent.key !== "Enter") return;
      insert();
      this.render();
    });
    marker.on("dragstart", insert);
    marker.on("drag", () => {
      this.points[index + 1] = marker.getLatLng();
      this.drawShape();
    });
    marker.on("dragend", () => this.render());
    return marker;
  }
}

function backdrop(map, data) {
  // The other zones in grey and the shops and touchpoints as dots: points to draw by, even
  // without map tiles.
  const layers = data.zones.map((zone) =>
    L.geoJSON(zone.geometry, { interactive: false, className: "zone-other" }).bindTooltip(
      zone.name,
      { permanent: true, direction: "center", className: "map-zone-label", pane: "zone-labels" },
    ),
  );
  for (const place of data.places) {
    const dot = L.circleMarker([place.lat, place.lon], {
      radius: 5,
      className: `zone-place is-${place.kind}`,
      bubblingMouseEvents: true,
    });
    layers.push(dot.bindTooltip(place.name, { direction: "top" }));
  }
  for (const layer of layers) layer.addTo(map);
  return layers;
}

function fit(map, editor, layers, center) {
  const own = editor.points.length ? [L.polygon(editor.points)] : [];
  const bounds = L.featureGroup(own.length ? own : layers).getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [32, 32], maxZoom: 18, animate: false });
  else map.setView([center.lat, center.lon], 16, { animate: false });
}

function start(figure, container, field, data) {
  const labels = container.dataset;
  const map = L.map(container, {
    attributionControl: false,
    zoomControl: false,
    doubleClickZoom: false, // a double click removes a corner
    zoomAnimation: !still,
    fadeAnimation: !still,
    maxZoom: 20,
    scrollWheelZoom: false,
  });
  // Corners and handles are placed in screen pixels: the map needs a view before they exist.
  map.setView([data.center.lat, data.center.lon], 16, { animate: false });
  map.createPane("zone-labels").style.zIndex = "450";
  L.control.zoom({ zoomInTitle: labels.zoomIn, zoomOutTitle: labels.zoomOut }).addTo(map);
  if (data.tiles) L.tileLayer(data.tiles, { maxZoom: 20, maxNativeZoom: 19 }).addTo(map);
  const layers = backdrop(map, data);
  const editor = new ZoneEditor(map, field, labels, document.getElementById("zone-status"));
  if (!editor.load(field.value)) editor.render(false);
  fit(map, editor, layers, data.center);
  editor.render(false);
  field.addEventListener("input", () => editor.load(field.value));
  figure.querySelector("#zone-finish").addEventListener("click", () => editor.finish());
  figure.querySelector("#zone-undo").addEventListener("click", () => editor.undo());
  figure.querySelector("#zone-clear").addEventListener("click", () => editor.clear());
  // Middle handles sit between corners on screen: place them again after a zoom.
  map.on("zoomend", () => editor.render(false));
}

const block = document.getElementById("map-data");
const figure = document.getElementById("map-figure");
const field = document.getElementById("f-geometry");
if (L && block && figure && field) {
  figure.hidden = false;
  start(figure, document.getElementById("map"), field, JSON.parse(block.textContent));
}
