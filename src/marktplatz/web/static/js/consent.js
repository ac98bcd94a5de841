// Consent per purpose (§ 25 TDDDG, GDPR): the banner of visitor pages and the privacy centre.
// Before a choice, and after declining, this module writes nothing to the device and sends
// no identifier. A decline is not remembered (a "declined" flag would itself be stored on the
// device): the banner simply asks again on the next page. Only after the server has recorded
// a grant does the device keep one entry: {visitor, secret, purposes, version}.
const KEY = "marktplatz.consent";
const WALLET = "marktplatz.wallet"; // the coupon wallet (wallet.js); cleared only when asked
const PURPOSES = ["analytics", "personalisation"];
/** The journey events waiting to be sent (journey.js): kept only with consent to analytics. */
export const QUEUE_DB = "marktplatz-queue";

function record() {
  try {
    const found = JSON.parse(localStorage.getItem(KEY) || "null");
    const usable = found && typeof found.visitor === "string" && typeof found.secret === "string";
    return usable && found.purposes ? found : null;
  } catch {
    return null;
  }
}

/** The visitor id while `purpose` is granted on this device, otherwise null. */
export function visitorId(purpose) {
  const found = record();
  return found && found.purposes[purpose] === true ? found.visitor : null;
}

function randomHex(bytes) {
  // Random, never derived from the device: crypto.getRandomValues only.
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function post(path, body) {
  // No cookies: the API needs none, and a retailer's session must not ride along.
  return fetch(`/api/v1/visitor/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
}

function all(granted) {
  return Object.fromEntries(PURPOSES.map((p) => [p, granted]));
}

/** Record the choice on the server, then (and only then) keep it on the device. */
async function grant(purposes, version) {
  const known = record();
  if (known && known.purposes.analytics && !purposes.analytics) {
    // Analytics is being taken back: the id stops travelling with events before the request
    // leaves, and the waiting events (they carry it) go.
    const without = { ...known.purposes, analytics: false };
    localStorage.setItem(KEY, JSON.stringify({ ...known, purposes: without }));
    await dropQueue();
  }
  const proof = known
    ? { visitor: known.visitor, secret: known.secret }
    : { visitor: randomHex(16), secret: randomHex(32) };
  const response = await post("consent", { ...proof, purposes, text_version: version });
  if (!response.ok) throw new Error(`consent: ${response.status}`);
  const answer = await response.json();
  localStorage.setItem(KEY, JSON.stringify({ ...proof, purposes: answer.purposes, version }));
}

/** Delete the waiting events (they carry the id) the moment analytics is no longer granted. */
function dropQueue() {
  return new Promise((done) => {
    try {
      const deleting = indexedDB.deleteDatabase(QUEUE_DB);
      // "blocked": a page still has it open; it is deleted as soon as that page lets go
      deleting.onsuccess = deleting.onerror = deleting.onblocked = () => done();
    } catch {
      done(); // no IndexedDB (a sandboxed page): there is nothing to delete
    }
  });
}

function stopTracking(known) {
  localStorage.setItem(KEY, JSON.stringify({ ...known, purposes: all(false) }));
  return dropQueue();
}

function forget(clearWallet) {
  localStorage.removeItem(KEY);
  if (clearWallet) localStorage.removeItem(WALLET);
  return dropQueue();
}

/** Withdraw every purpose: the id stops travelling at once, and is forgotten once recorded. */
async function withdraw(version, clearWallet) {
  const known = record();
  if (!known) {
    await forget(clearWallet);
    return;
  }
  // Keep the secret until the server has the withdrawal (to try again), but send the id no more.
  await stopTracking(known);
  const proof = { visitor: known.visitor, secret: known.secret };
  const response = await post("consent", { ...proof, purposes: all(false), text_version: version });
  if (!response.ok && response.status !== 404) throw new Error(`withdraw: ${response.status}`);
  await forget(clearWallet);
}

async function erase(clearWallet) {
  const known = record();
  if (known) {
    await stopTracking(known);
    const response = await post("erase", { visitor: known.visitor, secret: known.secret });
    if (!response.ok && response.status !== 404) throw new Error(`erase: ${response.status}`);
  }
  await forget(clearWallet);
}

function walletCount() {
  try {
    const entries = JSON.parse(localStorage.getItem(WALLET) || "[]");
    return Array.isArray(entries) ? entries.length : 0;
  } catch {
    return 0;
  }
}

// --- the banner ------------------------------------------------------------------------

function chosen(root) {
  const boxes = root.querySelectorAll("input[data-purpose]");
  return Object.fromEntries([...boxes].map((box) => [box.dataset.purpose, box.checked]));
}

function close(banner) {
  banner.hidden = true;
  document.getElementById("main")?.focus();
}

async function decide(banner, purposes) {
  const error = banner.querySelector("[data-consent-error]");
  error.hidden = true;
  try {
    if (Object.values(purposes).some(Boolean)) await grant(purposes, banner.dataset.version);
    else if (record()) await withdraw(banner.dataset.version, false);
    // else: a decline on a device that never agreed: nothing to store, nothing to send
    close(banner);
  } catch {
    error.textContent = banner.dataset.failed;
    error.hidden = false;
  }
}

function bootBanner() {
  const banner = document.getElementById("consent-banner");
  if (!banner || document.getElementById("privacy-centre")) return;
  const known = record();
  // A new text version asks afresh, with nothing ticked: an earlier choice is no default.
  if (known && known.version === banner.dataset.version) return;
  const on = (selector, purposes) =>
    banner.querySelector(selector).addEventListener("click", () => decide(banner, purposes()));
  on("[data-consent-accept]", () => all(true));
  on("[data-consent-decline]", () => all(false));
  on("[data-consent-save]", () => chosen(banner));
  banner.hidden = false;
}

// --- the privacy centre ----------------------------------------------------------------

function describe(root) {
  const t = root.dataset;
  const known = record();
  const consent = root.querySelector("[data-device-consent]");
  if (!known) {
    consent.textContent = t.none;
  } else {
    const parts = PURPOSES.map((p) => `${t[p]}: ${known.purposes[p] ? t.granted : t.refused}`);
    consent.textContent = `${parts.join(", ")} (${t.idLabel} ${known.visitor}, ${t.versionLabel} ${known.version})`;
  }
  root.querySelector("[data-device-coupons]").textContent = String(walletCount());
  for (const box of root.querySelectorAll("input[data-purpose]")) {
    box.checked = Boolean(known?.purposes[box.dataset.purpose]);
  }
}

function download(data) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "marktplatz-data.json";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

async function exportData() {
  const known = record();
  const response = await post("export", { visitor: known.visitor, secret: known.secret });
  if (!response.ok) throw new Error(`export: ${response.status}`);
  const server = await response.json();
  const { secret, ...consent } = known; // the secret is a key, not data about the visitor
  let wallet = [];
  try {
    wallet = JSON.parse(localStorage.getItem(WALLET) || "[]");
  } catch {
    // an unreadable wallet: export the rest
  }
  download({ server, device: { consent, wallet } });
}

function bootCentre() {
  const root = document.getElementById("privacy-centre");
  if (!root) return;
  const t = root.dataset;
  const status = root.querySelector("[data-status]");
  const clearWallet = () => root.querySelector("[data-clear-wallet]").checked;
  const run = async (action) => {
    status.textContent = "";
    try {
      status.textContent = await action();
    } catch {
      status.textContent = t.failed;
    }
    describe(root);
  };
  const afterForget = (message) => (clearWallet() ? `${message} ${t.walletCleared}` : message);
  root.querySelector("[data-consent-form]").addEventListener("submit", (event) => {
    event.preventDefault();
    const purposes = chosen(root);
    run(async () => {
      if (Object.values(purposes).some(Boolean)) {
        await grant(purposes, t.version);
        return t.saved;
      }
      if (!record()) return t.none;
      await withdraw(t.version, clearWallet());
      return afterForget(t.withdrawn);
    });
  });
  root.querySelector("[data-export]").addEventListener("click", () =>
    run(async () => {
      if (!record()) return t.nothing;
      await exportData();
      return t.exported;
    }),
  );
  root.querySelector("[data-withdraw]").addEventListener("click", () =>
    run(async () => {
      if (!record()) {
        if (!clearWallet()) return t.nothing;
        await forget(true);
        return t.walletCleared;
      }
      await withdraw(t.version, clearWallet());
      return afterForget(t.withdrawn);
    }),
  );
  root.querySelector("[data-erase]").addEventListener("click", () => {
    if (!record() && !clearWallet()) return run(async () => t.nothing);
    if (!window.confirm(t.confirmErase)) return undefined;
    return run(async () => {
      await erase(clearWallet());
      return afterForget(t.erased);
    });
  });
  describe(root);
  root.hidden = false;
}

bootBanner();
bootCentre();
