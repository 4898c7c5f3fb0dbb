// The users admin page: add a user (admin or editor of chosen sites), change
// a role, sites or password, delete. Through /api/v1/users (admins only).

import { post, put } from "./api.js";
import { byId, el, fill, pageData } from "./dom.js";
import { t } from "./format.js";
import { apiForm, checkboxes, checkedValues, deleteButton, field, input, select, showList, statusLine } from "./forms.js";

const { sites, me } = pageData();
const USERS = "/api/v1/users";
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
  const email = input("email", "email", "", { required: true, autocomplete: "off" });
  const password = input("password", "password", "", { required: true, minlength: 8, autocomplete: "new-password" });
  const fields = [field(t("users.email"), email), field(t("users.password"), password), accessFields({})];
  return apiForm({ id: "add-user", fields, submit: t("common.add") }, async (form) => {
    await post(USERS, {
      email: email.value.trim(),
      password: password.value,
      role: form.elements.role.value,
      sites: checkedValues(form, "sites"),
    });
    form.reset();
    await showUsers();
  });
}

function userItem(user) {
  const status = statusLine();
  const path = `${USERS}/${encodeURIComponent(user.email)}`;
  const password = input("password", "password", "", { minlength: 8, autocomplete: "new-password" });
  const remove = user.email === me ? null : deleteButton(t("common.delete"), user.email, path, showUsers, status.fail);
  const fields = [accessFields(user), field(t("users.new_password"), password)];
  const form = apiForm({ fields, submit: t("common.save"), buttons: [remove], status }, async (form) => {
    const changes = { role: form.elements.role.value, sites: checkedValues(form, "sites") };
    if (password.value) changes.password = password.value;
    await put(path, changes);
    password.value = "";
  });
  const access = user.role === "admin" ? t("common.all_sites") : user.sites.join(", ") || "–";
  return el(
    "details",
    { class: "item", "data-email": user.email },
    el("summary", {}, el("b", {}, user.email), el("span", { class: "muted" }, t(`users.role.${user.role}`)), el("span", { class: "muted" }, access)),
    form,
  );
}

function showUsers() {
  return showList(byId("users"), USERS, "users", (users) => users.map(userItem));
}

fill(byId("add-form"), addForm());
showUsers();
