// "Near me": asks the browser for the position only when the visitor presses the button, then
// posts it (rounded to about 10 m) to /<city>/nearby. Nothing is kept on the device. With consent
// to personalisation the visitor id goes along, so the picks may follow their interests.
const form = document.querySelector("form[data-nearby]");

function say(text) {
  const status = form.querySelector("[data-nearby-status]");
  status.textContent = text; // a live region: read out when it changes
}

async function personal() {
  const consent = document.getElementById("consent-js");
  if (!consent) return null;
  try {
    const { visitorId } = await import(consent.src);
    return visitorId("personalisation");
  } catch {
    return null;
  }
}

function locate(button) {
  const t = form.dataset;
  button.disabled = true;
  say(t.asking);
  navigator.geolocation.getCurrentPosition(
    async ({ coords }) => {
      form.elements.lat.value = coords.latitude.toFixed(4);
      form.elements.lon.value = coords.longitude.toFixed(4);
      const visitor = await personal();
      if (visitor) form.elements.visitor.value = visitor;
      say(t.searching);
      form.submit();
    },
    (error) => {
      button.disabled = false;
      say(error.code === error.PERMISSION_DENIED ? t.denied : t.unavailable);
    },
    { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
  );
}

// Browsers give the position only to pages on a secure (https) connection: elsewhere the button
// could only ever fail, so it stays hidden.
if (form && "geolocation" in navigator && window.isSecureContext) {
  const button = form.querySelector("button");
  // Back from the results (bfcache): the button works again, the old status goes.
  window.addEventListener("pageshow", () => {
    button.disabled = false;
    say("");
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault(); // form.submit() in locate() sends it once the position is there
    locate(button);
  });
  form.hidden = false;
}
