// The visitor app's service worker (built with workbox from frontend/build-sw.mjs, served at
// /sw.js): keeps the pages a visitor opened and an offline page. It stores no identifier.
if ("serviceWorker" in navigator && window.isSecureContext) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch(() => {
      // no service worker built (npm missing at install): the pages simply need a network
    });
  });
}

// Notes for browsers without JavaScript ("the wallet needs JavaScript …"): shown by default, so
// they also appear where <noscript> does not, and hidden here, where scripts do run.
for (const note of document.querySelectorAll("[data-no-js]")) note.hidden = true;

// A section row that scrolls sideways on a phone: the current section in view, not cut off.
for (const nav of document.querySelectorAll(".subnav")) {
  const current = nav.querySelector("[aria-current=page]");
  if (current && nav.scrollWidth > nav.clientWidth) {
    nav.scrollLeft = current.offsetLeft - nav.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2;
  }
}
