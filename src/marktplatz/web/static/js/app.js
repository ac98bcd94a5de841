// The visitor app's service worker (built with workbox from frontend/build-sw.mjs, served at
// /sw.js): keeps the pages a visitor opened and an offline page. It stores no identifier.
if ("serviceWorker" in navigator && window.isSecureContext) {
  // A page loaded before the worker took over (the first visit) did not pass through it, so it
  // is not kept: once the worker is active, it is asked to keep this page, in the language shown,
  // and the assets the page loaded (workbox's CACHE_URLS; the worker's routes decide what is
  // kept, so never a page of a logged-in user). The copies hold no identifier: Cache Storage
  // only, as before consent too (docs/privacy.md).
  const missed = !navigator.serviceWorker.controller;
  window.addEventListener("load", () => {
    navigator.serviceWorker
      .register("/sw.js")
      .then(() => (missed ? keepThisPage() : undefined))
      .catch(() => {
        // no service worker built (npm missing at install): the pages simply need a network;
        // or this page could not be kept: it is kept on the next visit through the worker
      });
  });
}

async function keepThisPage() {
  const { active } = await navigator.serviceWorker.ready;
  const shown = { headers: { "x-shown-language": document.documentElement.lang } };
  const page = [location.href.split("#")[0], shown];
  const assets = performance
    .getEntriesByType("resource")
    .map((entry) => new URL(entry.name))
    .filter((url) => url.origin === location.origin && url.pathname.startsWith("/static/"))
    .map((url) => url.href);
  const urlsToCache = [page, ...new Set(assets)];
  active.postMessage({ type: "CACHE_URLS", payload: { urlsToCache } });
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
