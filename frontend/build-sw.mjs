// Builds the service worker with workbox-build (npm) into the git-ignored static/vendor/sw.js.
// It keeps the static assets (content-hashed, immutable) and the wallet page, so a visitor's
// saved coupons open without a network. Run by `make node`; the app serves it at /sw.js.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { generateSW } from "workbox-build";

// The offline page is rendered by the app; its revision follows its template.
const offline = createHash("sha256")
  .update(readFileSync("src/marktplatz/web/templates/visitor/offline.html"))
  .digest("hex")
  .slice(0, 16);

// The page a visitor saw before the worker took over (the first visit) did not pass through it:
// app.js then asks the worker to fetch it again (workbox's CACHE_URLS message), with the language
// the page was shown in as the request header `x-shown-language`. Such a copy is kept only in
// that language, so a German page never stands in for an English one, and never over a copy a
// visit since then has kept (that one is newer). (Inlined: workbox copies the function.)
const shownLanguageOnly = {
  cacheWillUpdate: async ({ request, response }) => {
    const shown = request.headers.get("x-shown-language");
    if (!shown) return response;
    if (response.headers.get("content-language") !== shown) return null;
    return (await caches.match(request.url)) ? null : response;
  },
};

const { count, size, warnings } = await generateSW({
  swDest: "src/marktplatz/web/static/vendor/sw.js",
  globDirectory: "src/marktplatz/web/static",
  globPatterns: ["favicon.svg"],
  modifyURLPrefix: { "": "/static/" },
  additionalManifestEntries: [{ url: "/offline", revision: offline }],
  inlineWorkboxRuntime: true,
  mode: "production",
  sourcemap: false,
  skipWaiting: true,
  clientsClaim: true,
  cleanupOutdatedCaches: true,
  runtimeCaching: [
    {
      // Hashed names never change their content: the cache answers first.
      urlPattern: ({ url }) => url.pathname.startsWith("/static/"),
      handler: "CacheFirst",
      // No workbox expiration: it would keep its bookkeeping in IndexedDB, and before consent
      // nothing may be stored there. Hashed assets are small; a new release brings few.
      options: { cacheName: "marktplatz-assets" },
    },
    {
      // The wallet: fresh when online, the last copy when offline; its coupons are on the device.
      urlPattern: ({ url }) => /^\/[a-z0-9-]+\/wallet$/.test(url.pathname),
      handler: "NetworkFirst",
      options: {
        cacheName: "marktplatz-wallet",
        networkTimeoutSeconds: 3,
        cacheableResponse: { statuses: [200], headers: { "x-offline-ok": "1" } },
        plugins: [shownLanguageOnly],
      },
    },
    {
      // Visitor pages opened before: fresh when online, the last copy offline, else the
      // offline page. Only answers marked by the app (no logged-in user in them) are kept; the
      // portal, the console, logins and the API never. A page seen before the worker took over
      // comes as app.js's request, not as a navigation. (Inlined: workbox copies the function.)
      urlPattern: ({ request, url }) =>
        (request.mode === "navigate" || request.headers.has("x-shown-language")) &&
        !/^\/(portal|console|login|logout|invite|account|api|lang|q|e|decide)(\/|$)/.test(
          url.pathname,
        ),
      handler: "NetworkFirst",
      options: {
        cacheName: "marktplatz-pages",
        networkTimeoutSeconds: 4,
        cacheableResponse: { statuses: [200], headers: { "x-offline-ok": "1" } },
        precacheFallback: { fallbackURL: "/offline" },
        plugins: [shownLanguageOnly],
      },
    },
  ],
});
for (const warning of warnings) console.warn(warning);
console.log(`service worker: ${count} file(s) precached, ${size} bytes`);
