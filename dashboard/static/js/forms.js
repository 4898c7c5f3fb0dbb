// The admin pages' forms, built one way: a labelled field, a group of
// checkboxes, a form that calls the API and says what happened in its status
// line, a delete button, a list loaded from the API. Values are set as DOM
// properties (input.value), never spliced into markup.

import { del, get } from "./api.js";
import { el, fill } from "./dom.js";
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

/**
 * A form of `fields`, then its buttons (a primary `submit`, then `buttons`), its
 * status line and `after`. On submit, `action(form)`; then the status line says
 * it is saved, or shows the API's error.
 */
export function apiForm({ id, fields, submit, buttons = [], status = statusLine(), after = [] }, action) {
  const form = el(
    "form",
    { class: "stack", id },
    fields,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, submit), buttons),
    status.node,
    after,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await action(form);
      status.ok();
    } catch (error) {
      status.fail(error);
    }
  });
  return form;
}

/** A button that, once the user confirms deleting `name`, DELETEs `path`, then `done()`;
 * `fail(error)` when the API refuses. */
export function deleteButton(text, name, path, done, fail) {
  const button = el("button", { type: "button", class: "danger" }, text);
  button.addEventListener("click", async () => {
    if (!confirm(t("common.confirm_delete", { name }))) return;
    try {
      await del(path);
    } catch (error) {
      return fail(error);
    }
    await done();
  });
  return button;
}

/** Fill `container` with `render(items)`: the list the API answers at `path`, under `key`. */
export async function showList(container, path, key, render) {
  try {
    const answer = await get(path);
    fill(container, render(answer[key]));
  } catch (error) {
    fill(container, el("p", { class: "error" }, error.message));
  }
}
