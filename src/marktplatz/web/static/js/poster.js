// The poster form: writing an own call to action chooses "Your own text" too, so what is typed
// is what gets printed. Without JavaScript the server asks for that choice instead.
const text = document.getElementById("f-text");
const custom = document.getElementById("f-cta-custom");

text?.addEventListener("input", () => {
  if (custom && text.value.trim()) custom.checked = true;
});
