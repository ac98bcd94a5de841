// Journey events of the visitor app (docs/events.md): a `page.view` for every visitor page and a
// `content.viewed` for every offer or story that was on screen for a second, sent to POST /e.
//
// Each event gets a random event_id when it happens and keeps it through every retry: the server
// stores an event_id once, and this module sends an event again only when no answer said it was
// stored (a 503, a lost connection, no network).
//
// Where the events wait depends on consent (§ 25 TDDDG: keeping them is not needed for what the
// visitor asked for):
//   - with consent to analytics, in IndexedDB ("marktplatz-queue"), so that events of pages read
//     offline arrive once the network is back, even after the tab was closed; they carry the
//     visitor id; entries older than 7 days are dropped (the server would refuse them);
//   - without it, only in this page's memory, without any id; they are lost with the page.
// consent.js deletes the database when the visitor withdraws or erases.
// consent.js under the hashed name base.html loaded it by: the same module, not a second copy.
const { QUEUE_DB, visitorId } = await import(document.getElementById("consent-js").src);

const STORE = "events";
const MAX_AGE_MS = 7 * 86400 * 1000;
const BATCH = 100; // the most POST /e takes at once
const FIRST_RETRY_MS = 2_000;
const LAST_RETRY_MS = 5 * 60 * 1000;
const VIEWED_AFTER_MS = 1_000;
const SEND_TIMEOUT_MS = 30_000;

const city = document.querySelector('meta[name="marktplatz-city"]')?.content;
const memory = new Map(); // event_id → event, for visitors without consent to analytics
let retryIn = 0;
let timer = null;
let sending = null;
let again = false;

// --- the queue in IndexedDB (only with consent to analytics) -------------------------------

function request(req) {
  return new Promise((done, fail) => {
    req.onsuccess = () => done(req.result);
    req.onerror = () => fail(req.error);
  });
}

function dropStale() {
  // Consent was withdrawn (maybe in another tab, whose localStorage write reached this one late):
  // whatever this page may have put there goes. Deleting creates nothing.
  try {
    indexedDB.deleteDatabase(QUEUE_DB);
  } catch {
    // no IndexedDB here: nothing can be stored either
  }
}

async function withStore(mode, work) {
  // Opened for each use and closed at once: a withdrawal must be able to delete the database.
  const opening = indexedDB.open(QUEUE_DB, 1);
  opening.onupgradeneeded = () => {
    // Never made without consent, not even by a page that read the consent just before it went.
    if (!visitorId("analytics")) opening.transaction.abort();
    else opening.result.createObjectStore(STORE, { keyPath: "event_id" });
  };
  const db = await request(opening);
  db.onversionchange = () => db.close();
  try {
    const tx = db.transaction(STORE, mode);
    const result = await work(tx.objectStore(STORE));
    await new Promise((done, fail) => {
      tx.oncomplete = done;
      tx.onerror = () => fail(tx.error);
      tx.onabort = () => fail(tx.error);
    });
    return result;
  } finally {
    db.close();
  }
}

async function queued() {
  if (!visitorId("analytics")) return [];
  const found = await withStore("readonly", (store) => request(store.getAll()));
  return found;
}

async function forgetQueued(ids) {
  if (!ids.length || !visitorId("analytics")) return;
  await withStore("readwrite", async (store) => {
    for (const id of ids) store.delete(id);
  });
}

// --- making and sending events -------------------------------------------------------------

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Plain http outside localhost has no randomUUID: a version-4 UUID from getRandomValues.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Record one event of this city; it is sent at once, or later when the network is back. */
export async function track(kind, fields = {}) {
  if (!city) return;
  const event = { event_id: newId(), kind, city, occurred_at: new Date().toISOString(), ...fields };
  const visitor = visitorId("analytics");
  let kept = false;
  if (visitor) {
    event.visitor = visitor;
    try {
      await withStore("readwrite", (store) => request(store.put(event)));
      kept = true;
    } catch {
      // IndexedDB refused (private mode, disk full, consent just gone): memory, without the id
      delete event.visitor;
    }
    if (kept && !visitorId("analytics")) {
      dropStale(); // withdrawn while the event was being written: it goes with the rest
      return;
    }
  }
  if (!kept) memory.set(event.event_id, event);
  send();
}

function fresh(event, now) {
  return now - Date.parse(event.occurred_at) < MAX_AGE_MS;
}

class Later extends Error {
  constructor(seconds) {
    super("later");
    this.seconds = seconds;
  }
}

function requestOptions(batch, leaving) {
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(batch),
    credentials: "omit", // no cookie rides along: events are not tied to a session
    cache: "no-store",
    keepalive: leaving, // may outlive the page when it is being closed
    // A request that hangs would hold the lock, and with it every tab's sending.
    signal: !leaving && AbortSignal.timeout ? AbortSignal.timeout(SEND_TIMEOUT_MS) : undefined,
  };
}

async function post(batch) {
  let response;
  try {
    response = await fetch("/e", requestOptions(batch, false));
    await response.arrayBuffer(); // read to the end: an unread answer keeps the request open
  } catch {
    throw new Later(0); // no network, or the connection broke: not acknowledged
  }
  if ([408, 429].includes(response.status) || response.status >= 500) {
    throw new Later(Number(response.headers.get("retry-after")) || 0);
  }
  // 200: stored (or stored before); 4xx: refused for good (a rule, a size). Either way done;
  // sending a refused event again would be refused again.
}

async function drain() {
  const now = Date.now();
  const stored = await queued().catch(() => []);
  const old = stored.filter((e) => !fresh(e, now)).map((e) => e.event_id);
  await forgetQueued(old).catch(() => undefined);
  for (const [id, event] of memory) if (!fresh(event, now)) memory.delete(id);
  const kept = new Set(stored.map((e) => e.event_id));
  const pending = [...stored.filter((e) => fresh(e, now)), ...memory.values()];
  for (let start = 0; start < pending.length; start += BATCH) {
    // Withdrawn meanwhile: the stored events (they carry the id) go no further.
    const consented = Boolean(visitorId("analytics"));
    const batch = pending
      .slice(start, start + BATCH)
      .filter((e) => consented || !kept.has(e.event_id));
    if (!batch.length) continue;
    await post(batch);
    const ids = batch.map((e) => e.event_id);
    for (const id of ids) memory.delete(id);
    await forgetQueued(ids.filter((id) => kept.has(id)));
  }
}

/** The page is being left: what lives only in its memory goes now, in a request that may
 * outlive the page. What waits in IndexedDB stays for the next page (a request outliving this
 * page could not take its events off the queue, and they would travel twice). */
function leave() {
  const events = [...memory.values()].slice(0, BATCH);
  if (!events.length) return;
  for (const event of events) memory.delete(event.event_id);
  fetch("/e", requestOptions(events, true)).catch(() => undefined);
}

function retryLater(seconds) {
  retryIn = Math.min(Math.max(retryIn * 2, FIRST_RETRY_MS), LAST_RETRY_MS);
  const wait = Math.max(retryIn * (0.75 + Math.random() * 0.5), seconds * 1000);
  clearTimeout(timer);
  timer = setTimeout(() => send(), wait);
}

/** Send what waits: one run at a time in this tab, and (Web Locks) across the visitor's tabs. */
export function send() {
  if (sending) {
    again = true; // an event came while a run was on its way: one more run after it
    return sending;
  }
  let delivered = false;
  const run = async () => {
    try {
      await drain();
      retryIn = 0;
      delivered = true;
    } catch (error) {
      retryLater(error instanceof Later ? error.seconds : 0);
    }
  };
  const locked = navigator.locks ? navigator.locks.request("marktplatz-events", run) : run();
  sending = locked.finally(() => {
    sending = null;
    const more = again && delivered; // after a failure the retry timer decides
    again = false;
    if (more) send();
  });
  return sending;
}

// --- what the app records ------------------------------------------------------------------

function watchViews() {
  // An item counts as viewed when at least half of it was on screen for a second, once per page.
  const items = document.querySelectorAll("[data-viewed]");
  if (!items.length || !("IntersectionObserver" in window)) return;
  const timers = new Map();
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        const node = entry.target;
        clearTimeout(timers.get(node));
        timers.delete(node);
        // (isIntersecting alone may be true from the first pixel in some browsers)
        if (entry.isIntersecting && entry.intersectionRatio >= 0.5) {
          timers.set(
            node,
            setTimeout(() => {
              observer.unobserve(node);
              timers.delete(node);
              track("content.viewed", { content_id: node.dataset.viewed, channel: "web" });
            }, VIEWED_AFTER_MS),
          );
        }
      }
    },
    { threshold: 0.5 },
  );
  for (const item of items) observer.observe(item);
}

if (city) {
  if (!visitorId("analytics")) dropStale(); // left over from a withdrawal another tab made
  // Another tab changed the consent: without analytics, nothing of the queue stays.
  window.addEventListener("storage", () => visitorId("analytics") || dropStale());
  track("page.view", { path: location.pathname, channel: "web" });
  watchViews();
  window.addEventListener("online", () => {
    retryIn = 0;
    clearTimeout(timer);
    send();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") leave();
  });
}
