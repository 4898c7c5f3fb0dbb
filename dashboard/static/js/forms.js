// Small builders for the admin pages' forms: a labelled field, a group of
// checkboxes, a status line that says what happened. Values are set as DOM
// properties (input.value), never spliced into markup.

import { el } from "./dom.js";
import { t } from "./format.js";

let counter = 0;

/** A label, its control and an optional help line; the control gets an id if it has none. */
export function field(labelText, control, help = "") {
  if (!control.id) control.id = `f${++counter}`;
  return [
    el("label", { for: control.id }, labelText),
    control,
    help ? el("p", { class: "help" }, help) : null,
  ];
}

export function input(name, type, value = "", attrs = {}) {
  const node = el("input", { name, type, ...attrs });
  if (type === "checkbox") node.checked = Boolean(value);
  else node.value = value ?? "";
  return node;
}

export function select(name, options, value) {
  const node = el(
    "select",
    { name },
    options.map(([optionValue, label]) => el("option", { value: optionValue }, label)),
  );
  node.value = value;
  return node;
}

/** Checkboxes named `name`, one per [value, label]; `checked` lists the ticked values. */
export function checkboxes(name, options, checked = []) {
  return el(
    "div",
    { class: "checks", role: "group" },
    options.map(([value, label]) => {
      const box = el("input", { type: "checkbox", name, value });
      box.checked = checked.includes(value);
      return el("label", {}, box, " ", label);
    }),
  );
}

export function checkedValues(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);
}

/** A status line under a form: ok(text) or fail(error) (with the API's message). */
export function statusLine() {
  const line = el("p", { class: "status", role: "status" });
  return {
    node: line,
    ok(text = t("common.saved")) {
      line.className = "status ok";
      line.textContent = text;
    },
    fail(error) {
      line.className = "status error";
      line.textContent = error.field ? `${error.field}: ${error.message}` : error.message;
    },
  };
}

/** A read-only text with a button that copies it (the snippet tag, a new token). */
export function copyable(text, label) {
  const box = el("input", { type: "text", readonly: true, "aria-label": label });
  box.value = text;
  const button = el("button", { type: "button" }, t("common.copy"));
  button.addEventListener("click", async () => {
    box.select();
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      document.execCommand("copy"); // clipboard API refused (plain http): the old way
    }
    button.textContent = t("common.copied");
  });
  return el("div", { class: "snippet" }, box, button);
}
