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

// A short page on a phone: a day shows the periods it uses (at least one) and a button for one
// more; a closed day shows none. Without this script every period is there to fill in.
function filled(row) {
  return [...row.querySelectorAll("input[type=text], input:not([type])")].some((i) => i.value.trim());
}

function tidy(block) {
  const rows = [...block.querySelectorAll(".period-row")];
  const used = rows.reduce((last, row, index) => (filled(row) ? index : last), 0);
  rows.forEach((row, index) => {
    row.hidden = index > used;
  });
  let more = block.querySelector("[data-more]");
  if (!more) {
    more = document.createElement("button");
    more.type = "button";
    more.className = "link-button add-period";
    more.dataset.more = "";
    more.textContent = form.dataset.addPeriod;
    more.addEventListener("click", () => {
      const next = rows.find((row) => row.hidden);
      if (!next) return;
      next.hidden = false;
      next.querySelector("input")?.focus();
      more.hidden = !rows.some((row) => row.hidden);
    });
    block.append(more);
  }
  more.hidden = !rows.some((row) => row.hidden);
}

function showDay(day) {
  const open = day.querySelector(".day-open input");
  const block = day.querySelector(".periods");
  if (open && block) block.hidden = !open.checked;
}

function tidyAll() {
  for (const block of form.querySelectorAll(".periods")) tidy(block);
  for (const day of form.querySelectorAll(".hours-day")) showDay(day);
}

if (form && region) {
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("change", (event) => {
    const day = event.target.closest(".hours-day");
    if (day && event.target.closest(".day-open")) showDay(day);
  });
  form.querySelector("[data-copy-monday]")?.addEventListener("click", (event) => {
    copyMonday(event);
    tidyAll();
  });
  tidyAll();
}
