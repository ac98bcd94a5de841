// Keys for a map of many markers, shared by the visitor map and the console's fleet map (a
// classic deferred script, run before their modules; Leaflet's own markers are each a Tab stop).
// Sixty tab stops stand between a keyboard user and the rest of the page (WCAG 2.4.1, 2.1.1):
// here Tab reaches one marker only — the one last visited — and the arrow keys, Home and End
// move between the markers in the order of the list below the map. Each marker's name ends with
// its place in that list, "(3 of 60)", so a screen reader says where it is.
window.mapKeys = (() => {
  const STEPS = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
  }

  function rove(markers, entryIds, position) {
    const elements = markers.map((marker) => marker.getElement());
    let current = 0;
    const select = (index) => {
      elements[current].tabIndex = -1;
      current = (index + elements.length) % elements.length;
      elements[current].tabIndex = 0;
    };
    elements.forEach((element, index) => {
      element.tabIndex = index === current ? 0 : -1;
      element.dataset.entry = entryIds[index];
      const where = fill(position, { n: index + 1, count: elements.length });
      element.setAttribute("aria-label", `${element.getAttribute("aria-label")} ${where}`);
      // A click focuses a marker too: the keyboard goes on from there.
      element.addEventListener("focus", () => select(index));
      element.addEventListener("keydown", (event) => {
        if (event.altKey || event.ctrlKey || event.metaKey) return;
        const step = STEPS[event.key];
        const to = step ? current + step : { Home: 0, End: elements.length - 1 }[event.key];
        if (to === undefined) return;
        event.preventDefault();
        // Not on to Leaflet's map, which would pan with the same arrow.
        event.stopPropagation();
        select(to);
        elements[current].focus();
      });
    });
  }

  return { rove };
})();
