// The users admin page: add a user (admin or editor of chosen sites), change
// a role, sites or password, delete. Through /api/v1/users (admins only).

import { del, get, post, put } from "./api.js";
import { byId, el, fill, pageData } from "./dom.js";
import { t } from "./format.js";
import { checkboxes, checkedValues, field, input, select, statusLine } from "./forms.js";

const { sites, me } = pageData();
const SITE_OPTIONS = sites.map((s) => [s.domain, s.domain]);
const ROLES = [["editor", t("users.role.editor")], ["admin", t("users.role.admin")]];

function accessFields(user) {
  return [
    field(t("users.role"), select("role", ROLES, user.role ?? "editor")),
    el("label", {}, t("users.sites")),
    checkboxes("sites", SITE_OPTIONS, user.sites ?? []),
    el("p", { class: "help" }, t("users.sites_help")),
  ];
}

function addForm() {
  const status = statusLine();
  const email = input("email", "email", "", { required: true, autocomplete: "off" });
  const password = input("password", "password", "", { required: true, minlength: 8, autocomplete: "new-password" });
  const form = el(
    "form",
    { class: "stack", id: "add-user" },
    field(t("users.email"), email),
    field(t("users.password"), password),
    accessFields({}),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, t("common.add"))),
    status.node,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await post("/api/v1/users", {
        email: email.value.trim(),
        password: password.value,
        role: form.elements.role.value,
        sites: checkedValues(form, "sites"),
      });
      form.reset();
      status.ok();
      await showUsers();
    } catch (error) {
      status.fail(error);
    }
  });
  return form;
}

function userItem(user) {
  const status = statusLine();
  const password = input("password", "password", "", { minlength: 8, autocomplete: "new-password" });
  const remove = el("button", { type: "button", class: "danger" }, t("common.delete"));
  const form = el(
    "form",
    { class: "stack" },
    accessFields(user),
    field(t("users.new_password"), password),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, t("common.save")), user.email === me ? null : remove),
    status.node,
  );
  const path = `/api/v1/users/${encodeURIComponent(user.email)}`;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const changes = { role: form.elements.role.value, sites: checkedValues(form, "sites") };
    if (password.value) changes.password = password.value;
    try {
      await put(path, changes);
      password.value = "";
      status.ok();
    } catch (error) {
      status.fail(error);
    }
  });
  remove.addEventListener("click", async () => {
    if (!confirm(t("common.confirm_delete", { name: user.email }))) return;
    try {
      await del(path);
      await showUsers();
    } catch (error) {
      status.fail(error);
    }
  });
  const access = user.role === "admin" ? t("common.all_sites") : user.sites.join(", ") || "–";
  return el(
    "details",
    { class: "item", "data-email": user.email },
    el("summary", {}, el("b", {}, user.email), el("span", { class: "muted" }, t(`users.role.${user.role}`)), el("span", { class: "muted" }, access)),
    form,
  );
}

async function showUsers() {
  const list = byId("users");
  try {
    const { users } = await get("/api/v1/users");
    fill(list, users.map(userItem));
  } catch (error) {
    fill(list, el("p", { class: "error" }, error.message));
  }
}

fill(byId("add-user-form"), addForm());
showUsers();
