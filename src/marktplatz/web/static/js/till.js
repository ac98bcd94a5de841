// The till's camera scanner: decodes the coupon's QR code with jsQR (from npm, when installed)
// and fills the code field. Typing the code works without it.
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

function stopStream(video) {
  const stream = video.srcObject;
  if (stream) stream.getTracks().forEach((track) => track.stop());
  video.srcObject = null;
}

async function scan() {
  const video = box.querySelector("[data-video]");
  const status = box.querySelector("[data-scan-status]");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  box.hidden = false;
  status.textContent = status.dataset.looking;
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment" },
      audio: false,
    });
    await video.play();
  } catch {
    status.textContent = status.dataset.denied;
    return;
  }
  const tick = () => {
    if (!video.srcObject) return;
    if (video.readyState >= video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      const match = found && CODE.exec(found.data.toUpperCase());
      if (match) {
        stopStream(video);
        form.querySelector("#f-code").value = match[0];
        form.requestSubmit();
        return;
      }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

if (start && box && window.isSecureContext && navigator.mediaDevices && window.jsQR) {
  start.hidden = false;
  start.addEventListener("click", scan);
  box.querySelector("[data-scan-stop]").addEventListener("click", () => {
    stopStream(box.querySelector("[data-video]"));
    box.hidden = true;
  });
}
