// The zone editor of the console (Leaflet from npm, as on the other maps; the drawing is ours:
// a few dozen lines over Leaflet's draggable markers, smaller than a drawing plugin and free of
// its toolbar). Click to set corners, close on the first corner or "Done"; drag corners, drag or
// click a middle handle to add one, double-click a corner or press Delete on it to remove it.
// By keyboard (WCAG 2.1.1) every corner and middle handle is a tab stop: arrow keys move a
// corner, Enter or Space on a middle handle adds one, and "Corner at the map centre" draws.
// Every change is written into the GeoJSON field, which the server reads — with or without this
// script — and typing into that field redraws the map.
const L = window.L;
const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
const DIGITS = 1e7; // the domain keeps positions to 7 decimals (about a centimetre)
const MIN_CORNERS = 3;
// Arrow steps in screen pixels, like Leaflet's own keyboard panning: zooming in makes them finer.
const STEP = 4;
const BIG_STEP = 24;
const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

function round(value) {
  return Math.round(value * DIGITS) / DIGITS;
}

// The page's translated texts carry {name} placeholders (see _zone_fields.html).
function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

class ZoneEditor {
  constructor(map, { field, labels, status, said, centre }) {
    this.map = map;
    this.field = field;
    this.labels = labels;
    this.status = status;
    this.said = said;
    this.centre = centre;
    this.points = [];
    this.holes = [];
    this.closed = false;
    this.history = [];
    this.shape = null;
    this.corners = [];
    this.middles = [];
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
    if (this.closed || this.points.length < MIN_CORNERS) return;
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
    if (this.closed && this.points.length <= MIN_CORNERS) {
      this.say(this.labels.tooFew, index);
      return false;
    }
    this.remember();
    this.points.splice(index, 1);
    this.render();
    this.say(this.labels.removed, index);
    return true;
  }

  insert(index, latlng) {
    this.remember();
    this.points.splice(index + 1, 0, latlng);
  }

  move(index, [dx, dy]) {
    // In place, not by a new render: the focused handle stays the same element.
    // project() rather than the container point, which Leaflet rounds to whole pixels.
    const to = this.map.unproject(this.map.project(this.points[index]).add([dx, dy]));
    this.remember();
    this.points[index] = to;
    this.corners[index].setLatLng(to);
    this.middles.forEach((marker, at) => marker.setLatLng(this.midpoint(at)));
    this.drawShape();
    this.write();
    this.map.panInside(to, { padding: [BIG_STEP, BIG_STEP], animate: false });
    this.say(this.labels.moved, index);
  }

  say(text, index) {
    // A polite live region announces a change of its text only: the same message twice in a
    // row differs by a no-break space.
    const message = fill(text, { n: index + 1 });
    this.said.textContent = this.said.textContent === message ? `${message}\u00a0` : message;
  }

  geometry() {
    const ring = this.points.map((p) => [round(p.lng), round(p.lat)]);
    return { type: "Polygon", coordinates: [[...ring, ring[0]], ...this.holes] };
  }

  write() {
    this.field.value = this.closed ? JSON.stringify(this.geometry(), null, 2) : "";
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
    // Each corner followed by the middle handle after it: the tab order walks round the zone.
    this.corners = this.points.map((point, index) => this.corner(point, index));
    this.middles = this.closed ? this.points.map((_, index) => this.middle(index)) : [];
    this.corners.forEach((marker, index) => {
      this.handles.addLayer(marker);
      if (this.closed) this.handles.addLayer(this.middles[index]);
    });
    if (write) this.write();
    const n = this.points.length;
    const labels = this.labels;
    const status = this.closed
      ? fill(labels.statusClosed, { n })
      : n
        ? fill(labels.statusDrawing, { n })
        : labels.statusEmpty;
    // Rewritten only when it changes, so the live region does not repeat itself on every move.
    if (this.status.textContent !== status) this.status.textContent = status;
    this.centre.disabled = this.closed;
  }

  focusCorner(index) {
    // The last corner of an open drawing gone, the focus goes back to where corners are set.
    const marker = this.corners[(index + this.corners.length) % this.corners.length];
    (marker ? marker.getElement() : this.centre).focus();
  }

  cornerKey(index, event) {
    const step = ARROWS[event.key];
    if (step) {
      event.preventDefault();
      const size = event.shiftKey ? BIG_STEP : STEP;
      this.move(index, [step[0] * size, step[1] * size]);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      if (this.remove(index)) this.focusCorner(index - 1);
    } else if (event.key === "Enter" && index === 0 && !this.closed) {
      this.finish();
      this.focusCorner(0);
    }
  }

  corner(point, index) {
    const first = index === 0 && !this.closed && this.points.length >= MIN_CORNERS;
    const marker = L.marker(point, {
      icon: L.divIcon({ className: `zone-corner${first ? " is-first" : ""}`, iconSize: [18, 18] }),
      draggable: true,
      keyboard: true,
      autoPanOnFocus: false,
    });
    const label = fill(this.labels.corner, { n: index + 1, count: this.points.length });
    marker.on("add", () => {
      const element = marker.getElement();
      // An application to screen readers: they hand it the arrow keys instead of reading on.
      element.setAttribute("role", "application");
      element.setAttribute("aria-label", label);
      element.setAttribute("aria-describedby", "zone-keys");
      element.dataset.corner = String(index);
    });
    marker.on("click", () => (first ? this.finish() : null));
    marker.on("dblclick contextmenu", (event) => {
      L.DomEvent.preventDefault(event.originalEvent);
      this.remove(index);
    });
    marker.on("keydown", (event) => this.cornerKey(index, event.originalEvent));
    marker.on("dragstart", () => this.remember());
    marker.on("drag", () => {
      this.points[index] = marker.getLatLng();
      this.drawShape();
    });
    marker.on("dragend", () => this.render());
    return marker;
  }

  midpoint(index) {
    const next = (index + 1) % this.points.length;
    const a = this.map.latLngToLayerPoint(this.points[index]);
    const b = this.map.latLngToLayerPoint(this.points[next]);
    return this.map.layerPointToLatLng(a.add(b).divideBy(2));
  }

  middle(index) {
    const marker = L.marker(this.midpoint(index), {
      icon: L.divIcon({ className: "zone-middle", iconSize: [12, 12] }),
      draggable: true,
      keyboard: true,
      autoPanOnFocus: false,
    });
    const next = ((index + 1) % this.points.length) + 1;
    const label = fill(this.labels.addCorner, { n: index + 1, next });
    marker.on("add", () => {
      const element = marker.getElement();
      element.setAttribute("aria-label", label);
      element.setAttribute("aria-describedby", "zone-keys");
      element.dataset.middle = String(index);
    });
    const added = () => {
      this.insert(index, marker.getLatLng());
      this.render();
      this.say(this.labels.added, index + 1);
    };
    marker.on("click", added);
    marker.on("keydown", (event) => {
      if (event.originalEvent.key !== "Enter" && event.originalEvent.key !== " ") return;
      event.originalEvent.preventDefault();
      added();
      this.focusCorner(index + 1);
    });
    marker.on("dragstart", () => this.insert(index, marker.getLatLng()));
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
    // Chromium makes an SVG shape with focus listeners (Leaflet's tooltips) a tab stop: dozens
    // of dots would stand between the map and the corners. They are drawing aids for the eye.
    dot.on("add", () => dot.getElement().setAttribute("tabindex", "-1"));
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
  const centre = figure.querySelector("#zone-centre");
  const editor = new ZoneEditor(map, {
    field,
    labels,
    status: document.getElementById("zone-status"),
    said: document.getElementById("zone-said"),
    centre,
  });
  if (!editor.load(field.value)) editor.render(false);
  fit(map, editor, layers, data.center);
  editor.render(false);
  field.addEventListener("input", () => editor.load(field.value));
  figure.querySelector("#zone-finish").addEventListener("click", () => editor.finish());
  figure.querySelector("#zone-undo").addEventListener("click", () => editor.undo());
  figure.querySelector("#zone-clear").addEventListener("click", () => editor.clear());
  centre.addEventListener("click", () => editor.add(map.getCenter()));
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
