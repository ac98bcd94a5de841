// The camera scanner shared by the till and the visitor's scanner page: opens the rear camera
// only when asked, decodes QR codes frame by frame with jsQR (from npm, loaded by the page as
// vendor/jsQR.js) and always lets the camera go again: after a code, on stop, on leaving.

// Whether this page may scan: a secure context with a camera API, and jsQR loaded.
export function cameraAvailable() {
  return Boolean(
    window.isSecureContext && navigator.mediaDevices?.getUserMedia && typeof window.jsQR === "function",
  );
}

export function stopCamera(video) {
  const stream = video.srcObject;
  if (stream) stream.getTracks().forEach((track) => track.stop());
  video.srcObject = null;
}

// Opens the camera into `video` and reads codes until `accept(text)` returns something truthy;
// resolves with that text, or with null when the camera is stopped first. Rejects when the
// camera cannot be opened (refused, missing).
export async function scanCodes(video, accept) {
  video.srcObject = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: "environment" },
    audio: false,
  });
  // Leaving the page or putting it in the background lets the camera go.
  const leave = () => stopCamera(video);
  const hidden = () => document.hidden && leave();
  window.addEventListener("pagehide", leave);
  document.addEventListener("visibilitychange", hidden);
  const forget = () => {
    window.removeEventListener("pagehide", leave);
    document.removeEventListener("visibilitychange", hidden);
  };
  try {
    await video.play();
  } catch (error) {
    leave();
    forget();
    throw error;
  }
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return new Promise((resolve) => {
    const tick = () => {
      if (!video.srcObject) {
        forget();
        resolve(null);
        return;
      }
      const text = video.readyState >= video.HAVE_ENOUGH_DATA ? decode(video, canvas, context) : null;
      if (text !== null && accept(text)) {
        leave();
        forget();
        resolve(text);
        return;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

function decode(video, canvas, context) {
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  context.drawImage(video, 0, 0, canvas.width, canvas.height);
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
  return found ? found.data : null;
}
