// The opening hours editor: asks the server for the preview while the retailer types, and copies
// Monday to Tuesday–Friday in place. Without it, the "Preview" and "Copy" buttons do the same.
const form = document.getElementById("hours-form");
const region = document.getElementById("hours-preview");
const WAIT_MS = 350;
let timer = null;
let asked = 0;

async function refresh() {
  const ticket = ++asked;
  let response;
  try {
    response = await fetch(form.dataset.preview, {
      method: "POST",
      body: new FormData(form),
      headers: { "x-csrf-token": form.elements.csrf_token.value },
      credentials: "same-origin",
    });
  } catch {
    return; // offline: the last preview stays, and the "Preview" button still works
  }
  // A slower answer to an older question must not overwrite a newer one.
  if (response.ok && ticket === asked) region.innerHTML = await response.text();
}

function later() {
  clearTimeout(timer);
  timer = setTimeout(refresh, WAIT_MS);
}

function copyMonday(event) {
  event.preventDefault();
  for (const input of form.querySelectorAll("[name^='d0_']")) {
    const suffix = input.name.slice(3);
    for (const day of [1, 2, 3, 4]) {
      const target = form.elements[`d${day}_${suffix}`];
      if (input.type === "checkbox") target.checked = input.checked;
      else target.value = input.value;
    }
  }
  refresh();
}

if (form && region) {
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.querySelector("[data-copy-monday]")?.addEventListener("click", copyMonday);
}
