// The coupon wallet: coupons the visitor saved, kept in this browser only (localStorage).
// Nothing is written before the visitor presses "Save coupon": keeping the coupon they asked
// for is the service itself (§ 25 (2) no. 2 TDDDG); no visitor id is stored or sent.
const KEY = "marktplatz.wallet";
const KEEP_AFTER_END_MS = 30 * 86400 * 1000;

function load() {
  try {
    const entries = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(entries) ? entries : [];
  } catch {
    return [];
  }
}

function store(entries) {
  if (entries.length) localStorage.setItem(KEY, JSON.stringify(entries));
  else localStorage.removeItem(KEY);
}

function fresh(entries, now = Date.now()) {
  return entries.filter((e) => !e.valid_until || Date.parse(e.valid_until) + KEEP_AFTER_END_MS > now);
}

function keep(entry) {
  const entries = load().filter((e) => e.code !== entry.code);
  entries.unshift({ ...entry, state: "saved" });
  store(fresh(entries));
}

function qrNode(svgText, label) {
  // As a picture, never as markup: whatever the stored text holds, nothing in it can run.
  const box = document.createElement("div");
  box.className = "qr-box";
  const image = document.createElement("img");
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText)}`;
  image.alt = label;
  image.width = 232;
  image.height = 232;
  box.append(image);
  return box;
}

function text(tag, value, className) {
  const node = document.createElement(tag);
  node.textContent = value;
  if (className) node.className = className;
  return node;
}

function render(root, entries) {
  const t = root.dataset;
  root.replaceChildren();
  if (!entries.length) {
    root.append(text("p", t.empty, "muted"));
    return;
  }
  const list = document.createElement("ul");
  list.className = "stack wallet-list";
  for (const entry of entries) {
    const item = document.createElement("li");
    item.className = `card wallet-coupon state-${entry.state || "saved"}`;
    const body = document.createElement("div");
    body.className = "card-body";
    body.append(text("h2", entry.title));
    body.append(text("p", entry.shop, "muted"));
    const state = { saved: t.open, redeemed: t.redeemed, unknown: t.unknown }[entry.state || "saved"];
    body.append(text("p", state, `badge wallet-state`));
    if ((entry.state || "saved") === "saved") body.append(qrNode(entry.qr_svg || "", `${t.qr} ${entry.code}`));
    const code = text("p", "");
    code.append(text("span", `${t.code} `, "muted"), text("strong", entry.code, "coupon-code"));
    body.append(code);
    if (entry.valid_until) {
      const until = new Date(entry.valid_until).toLocaleString(document.documentElement.lang, {
        dateStyle: "medium",
        timeStyle: "short",
      });
      body.append(text("p", `${t.until} ${until}`, "muted"));
    }
    const remove = text("button", t.remove, "link-button");
    remove.type = "button";
    remove.addEventListener("click", () => {
      // The device holds the only copy of the code: ask before it is gone.
      if ((entry.state || "saved") === "saved" && !window.confirm(t.confirm)) return;
      store(load().filter((e) => e.code !== entry.code));
      render(root, load());
    });
    body.append(remove);
    item.append(body);
    list.append(item);
  }
  root.append(list);
}

async function refresh(root) {
  const entries = fresh(load());
  store(entries);
  render(root, entries);
  if (!entries.length) return;
  try {
    const response = await fetch("/api/v1/coupons/wallet", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ codes: entries.map((e) => e.code) }),
      credentials: "omit",
    });
    if (!response.ok) return;
    const { states } = await response.json();
    const updated = load().map((e) => ({ ...e, state: states[e.code] || e.state }));
    store(updated);
    render(root, updated);
  } catch {
    root.prepend(text("p", root.dataset.offline, "hint"));
  }
}

// The service worker (built with workbox, served at /sw.js, registered by app.js) keeps the
// wallet page and its assets; once a coupon is saved they are fetched through it at once, so the
// saved coupons open without a network even before the wallet was visited.
async function keepOffline(city) {
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.ready; // registered by app.js on every page
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) =>
        navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }),
      );
    }
    const assets = [...document.querySelectorAll("link[rel=stylesheet], script[src], link[rel=icon]")];
    const urls = [`/${city}/wallet`, ...assets.map((node) => node.href || node.src)];
    await Promise.all(urls.map((url) => fetch(url, { credentials: "omit" }).catch(() => null)));
  } catch {
    // no service worker (npm missing at install, or a private window): the wallet needs a network
  }
}

// Limits of an offer the device can keep itself: no second unused coupon of an offer, no more
// uses than allowed per person. (Without consent the server cannot tell visitors apart.)
function periodStart(period, now = new Date()) {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  if (period === "week") start.setDate(start.getDate() - ((start.getDay() + 6) % 7));
  return period === "campaign" ? new Date(0) : start;
}

function refusal(form) {
  const mine = load().filter((e) => e.content_id === form.dataset.content);
  if (mine.some((e) => (e.state || "saved") === "saved")) return form.dataset.held;
  const limit = Number(form.dataset.perPerson || 0);
  const since = periodStart(form.dataset.period);
  const used = mine.filter((e) => e.state === "redeemed" && new Date(e.saved_at) >= since);
  return limit && used.length >= limit ? form.dataset.spent : null;
}

// The pseudonym travels with a save only while analytics is granted (consent.js, imported under
// the hashed name base.html loads it with, so that the page has one instance of it).
let visitorId = () => null;
const consentModule = document.getElementById("consent-js");
if (consentModule) import(consentModule.src).then((m) => (visitorId = m.visitorId), () => null);

for (const form of document.querySelectorAll("form.save-coupon")) {
  form.addEventListener("submit", (event) => {
    const why = refusal(form);
    if (!why) {
      form.querySelector("input[name=visitor]")?.remove();
      const id = visitorId("analytics");
      const field = Object.assign(document.createElement("input"), { type: "hidden", name: "visitor" });
      if (id) form.append(Object.assign(field, { value: id }));
      return;
    }
    event.preventDefault();
    form.querySelector("[data-refusal]")?.remove();
    const note = text("p", `${why} `, "field-error");
    note.dataset.refusal = "";
    note.setAttribute("role", "alert");
    const link = text("a", form.dataset.walletLink);
    link.href = form.dataset.walletUrl;
    note.append(link);
    form.append(note);
  });
}

const entry = document.getElementById("wallet-entry");
if (entry) {
  const saved = JSON.parse(entry.textContent);
  keep(saved);
  document.querySelector("[data-wallet-note]")?.removeAttribute("hidden");
  keepOffline(saved.city);
}
const wallet = document.getElementById("wallet");
if (wallet) {
  refresh(wallet);
  if (load().length) keepOffline(wallet.dataset.city);
}
