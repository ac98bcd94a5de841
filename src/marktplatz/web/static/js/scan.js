// The visitor's QR scanner: the camera opens only on a button press. A code of this city centre
// (this site's /q/<code>) is opened at once; anything else is only shown: another site's
// address as a plain link with a warning, a coupon code with the way to the wallet.
const root = document.getElementById("scanner");
const TOUCHPOINT = /^\/q\/([2-9a-hjkmnp-z]{8})\/?$/i;
const COUPON = /^[0-9A-Z]{4}-?[0-9A-Z]{4}-?[0-9A-Z]{4}$/i;

// What a decoded text is: {kind: "touchpoint", path} or {kind, text} with kind "coupon", "page"
// (another page of this site), "foreign" (another site) or "text".
function classify(text, origin) {
  const value = text.trim();
  if (COUPON.test(value)) return { kind: "coupon", text: value.toUpperCase() };
  let url;
  try {
    url = new URL(value);
  } catch {
    return { kind: "text", text: value };
  }
  const code = TOUCHPOINT.exec(url.pathname);
  if (url.origin === origin && code) return { kind: "touchpoint", path: `/q/${code[1].toLowerCase()}` };
  if (url.origin === origin) return { kind: "page", text: url.href };
  if (url.protocol === "http:" || url.protocol === "https:") return { kind: "foreign", text: url.href };
  return { kind: "text", text: value };
}

function show(found) {
  for (const panel of root.querySelectorAll("[data-result]")) panel.hidden = true;
  const panel = root.querySelector(`[data-result="${found.kind}"]`);
  const target = panel.querySelector("[data-scanned]");
  target.textContent = found.text;
  if (target.tagName === "A") target.href = found.text;
  panel.hidden = false;
  root.querySelector("[data-scan-again]").hidden = false;
  panel.focus();
}

async function scan(camera) {
  const box = root.querySelector("[data-scan-box]");
  const video = box.querySelector("[data-video]");
  const status = box.querySelector("[data-scan-status]");
  const start = root.querySelector("[data-scan-start]");
  for (const panel of root.querySelectorAll("[data-result]")) panel.hidden = true;
  root.querySelector("[data-scan-again]").hidden = true;
  start.hidden = true;
  box.hidden = false;
  status.textContent = root.dataset.looking;
  let text;
  try {
    text = await camera.scanCodes(video, () => true);
  } catch {
    status.textContent = root.dataset.denied;
    start.hidden = false;
    return;
  }
  if (text === null) {
    box.hidden = true;
    start.hidden = false;
    return;
  }
  const found = classify(text, window.location.origin);
  if (found.kind === "touchpoint") {
    status.textContent = root.dataset.opening;
    window.location.assign(found.path);
    return;
  }
  box.hidden = true;
  show(found);
}

const camera = root?.dataset.camera ? await import(root.dataset.camera) : null;
if (camera?.cameraAvailable()) {
  root.hidden = false;
  document.querySelector("[data-no-camera]").hidden = true;
  const start = root.querySelector("[data-scan-start]");
  start.addEventListener("click", () => scan(camera));
  root.querySelector("[data-scan-again]").addEventListener("click", () => scan(camera));
  root.querySelector("[data-scan-stop]").addEventListener("click", () => {
    camera.stopCamera(root.querySelector("[data-video]"));
  });
}
