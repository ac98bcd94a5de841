// The till's camera scanner: reads the coupon's QR code with the shared camera module (jsQR
// from npm, when installed) and fills the code field. Typing the code works without it.
const form = document.getElementById("till-form");
const start = form?.querySelector("[data-scan]");
const box = form?.querySelector("[data-scanner]");
const CODE = /[0-9A-Z]{4}-?[0-9A-Z]{4}-?[0-9A-Z]{4}/;

document.querySelector("[data-focus]")?.focus();

// One tap is one action: a second tap while the page loads must not send the form again.
for (const each of document.querySelectorAll("main form")) {
  each.addEventListener("submit", () => {
    setTimeout(() => each.querySelectorAll("button[type=submit]").forEach((b) => (b.disabled = true)));
  });
}

// Hashed like every asset (the service worker keeps /static/ files for good), so imported by
// the URL the page names rather than a fixed relative one.
const camera = box?.dataset.camera ? await import(box.dataset.camera) : null;

async function scan() {
  const video = box.querySelector("[data-video]");
  const status = box.querySelector("[data-scan-status]");
  box.hidden = false;
  status.textContent = status.dataset.looking;
  let text;
  try {
    text = await camera.scanCodes(video, (data) => CODE.test(data.toUpperCase()));
  } catch {
    status.textContent = status.dataset.denied;
    return;
  }
  if (text === null) return;
  form.querySelector("#f-code").value = CODE.exec(text.toUpperCase())[0];
  form.requestSubmit();
}

if (start && camera?.cameraAvailable()) {
  start.hidden = false;
  start.addEventListener("click", scan);
  box.querySelector("[data-scan-stop]").addEventListener("click", () => {
    camera.stopCamera(box.querySelector("[data-video]"));
    box.hidden = true;
  });
}
