// Builds the service worker with workbox-build (npm) into the git-ignored static/vendor/sw.js.
// It keeps the static assets (content-hashed, immutable) and the wallet page, so a visitor's
// saved coupons open without a network. Run by `make node`; the app serves it at /sw.js.
import { generateSW } from "workbox-build";

const { count, size, warnings } = await generateSW({
  swDest: "src/marktplatz/web/static/vendor/sw.js",
  globDirectory: "src/marktplatz/web/static",
  globPatterns: ["favicon.svg"],
  modifyURLPrefix: { "": "/static/" },
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
      options: { cacheName: "marktplatz-assets", expiration: { maxEntries: 80 } },
    },
    {
      // The wallet: fresh when online, the last copy when offline; its coupons are on the device.
      urlPattern: ({ url }) => /^\/[a-z0-9-]+\/wallet$/.test(url.pathname),
      handler: "NetworkFirst",
      options: { cacheName: "marktplatz-wallet", networkTimeoutSeconds: 3 },
    },
  ],
});
for (const warning of warnings) console.warn(warning);
console.log(`service worker: ${count} file(s) precached, ${size} bytes`);
