// The Markdown editor of the shop's story and of its offers and stories: a toolbar that writes
// Markdown into the textarea, a live preview rendered by the server (the same sanitiser as
// saving), and pictures inserted (or, in the story editor, uploaded) in place. The textarea, the
// "Preview" button and the upload form all work without this script.
const form = document.querySelector("form[data-md-editor]");
const source = form?.querySelector("[data-md-source]");
const target = form && document.getElementById(form.dataset.previewTarget);
const pictures = document.getElementById("pictures");
const upload = pictures?.querySelector("form[data-upload]");
const csrf = form?.querySelector("input[name=csrf_token]")?.value ?? "";
const DELAY_MS = 400;

let selection = [0, 0];
const remember = () => (selection = [source.selectionStart, source.selectionEnd]);

function replaceSelection(text, selectFrom = text.length, selectTo = text.length) {
  const [start, end] = selection;
  source.setRangeText(text, start, end, "end");
  source.focus();
  source.setSelectionRange(start + selectFrom, start + selectTo);
  remember();
  source.dispatchEvent(new Event("input"));
}

// Whole lines around the selection, so list and heading marks go at their beginnings.
function selectLines() {
  const [start, end] = selection;
  const from = source.value.lastIndexOf("\n", start - 1) + 1;
  const next = source.value.indexOf("\n", end);
  selection = [from, next === -1 ? source.value.length : next];
  return source.value.slice(...selection);
}

// A block (heading, list, picture) needs a blank line before it, or Markdown reads it as text.
function blockStart() {
  const before = source.value.slice(0, selection[0]);
  if (!before.trim()) return "";
  return before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
}

const ACTIONS = {
  heading() {
    const lines = selectLines().replace(/^#+\s*/, "");
    const text = `${blockStart()}## ${lines}`;
    replaceSelection(text);
  },
  bold() {
    const chosen = source.value.slice(...selection) || form.dataset.boldText || "";
    replaceSelection(`**${chosen}**`, 2, 2 + chosen.length);
  },
  bullets() {
    const lines = selectLines().split("\n").map((line) => `- ${line.replace(/^[-*]\s+/, "")}`);
    replaceSelection(blockStart() + lines.join("\n"));
  },
  numbers() {
    const lines = selectLines()
      .split("\n")
      .map((line, i) => `${i + 1}. ${line.replace(/^\d+\.\s+/, "")}`);
    replaceSelection(blockStart() + lines.join("\n"));
  },
  link() {
    const chosen = source.value.slice(...selection) || form.dataset.linkText || "Link";
    const text = `[${chosen}](https://)`;
    // The address is selected, ready to be typed over.
    replaceSelection(text, chosen.length + 3, text.length - 1);
  },
  picture() {
    pictures.scrollIntoView({ block: "start" });
    pictures.focus();
  },
};

function insertPicture(markdown) {
  const start = blockStart();
  replaceSelection(`${start}${markdown}\n\n`);
}

let timer = null;
let asked = 0;
async function refresh() {
  const mine = ++asked;
  const body = new FormData();
  body.set("source", source.value);
  body.set("language", form.querySelector("[name=language]").value);
  const response = await fetch(form.dataset.preview, {
    method: "POST",
    body,
    headers: { "x-csrf-token": csrf },
    credentials: "same-origin",
  });
  // An older answer arriving late must not replace a newer one.
  // A redirect means the session ended (to the login page): that is no preview.
  if (!response.ok || response.redirected || mine !== asked) return;
  target.innerHTML = await response.text();
}

function pictureCard(picture) {
  const { markdown } = picture;
  const item = document.createElement("li");
  item.className = "card";
  const image = Object.assign(document.createElement("img"), {
    src: picture.src,
    alt: picture.alt,
    width: picture.width,
    height: picture.height,
  });
  const caption = Object.assign(document.createElement("p"), { textContent: picture.alt });
  const code = Object.assign(document.createElement("p"), { className: "picture-line" });
  code.append(Object.assign(document.createElement("code"), { textContent: markdown }));
  const button = Object.assign(document.createElement("button"), {
    type: "button",
    className: "button secondary",
    textContent: upload.dataset.insertLabel,
  });
  button.dataset.insert = markdown;
  item.append(image, caption, code, button);
  return item;
}

function showUploadErrors(errors) {
  const box = upload.parentElement.querySelector("[data-upload-errors]");
  box.replaceChildren();
  const alert = Object.assign(document.createElement("div"), { className: "alert error" });
  alert.setAttribute("role", "alert");
  const list = document.createElement("ul");
  for (const message of Object.values(errors)) {
    list.append(Object.assign(document.createElement("li"), { textContent: message }));
  }
  alert.append(list);
  box.append(alert);
}

async function sendPicture(event) {
  event.preventDefault();
  const response = await fetch(upload.action, {
    method: "POST",
    body: new FormData(upload),
    headers: { accept: "application/json", "x-csrf-token": csrf },
    credentials: "same-origin",
  });
  const answer = await response.json();
  if (!response.ok) {
    showUploadErrors(answer.errors ?? {});
    return;
  }
  upload.parentElement.querySelector("[data-upload-errors]").replaceChildren();
  pictures.querySelector("[data-no-pictures]")?.remove();
  pictures.querySelector("[data-pictures]").append(pictureCard(answer));
  upload.reset();
  insertPicture(answer.markdown);
}

if (form && source && target) {
  form.querySelector("[data-toolbar]").hidden = false;
  // The city's own items show no pictures: their editor has no pictures panel.
  for (const button of pictures?.querySelectorAll("[data-insert]") ?? []) button.hidden = false;
  for (const event of ["select", "keyup", "click", "blur"]) {
    source.addEventListener(event, remember);
  }
  remember();
  form.querySelector("[data-toolbar]").addEventListener("click", (event) => {
    const action = event.target.closest("[data-md]")?.dataset.md;
    if (action) ACTIONS[action]();
  });
  pictures?.addEventListener("click", (event) => {
    const markdown = event.target.closest("[data-insert]")?.dataset.insert;
    if (markdown) insertPicture(markdown);
  });
  source.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, DELAY_MS);
  });
  upload?.addEventListener("submit", sendPicture);
}
