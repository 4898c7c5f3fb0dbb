// The API tokens admin page: create a token (name, scopes, sites), see its
// secret once, revoke tokens. Through /api/v1/tokens (admins only).

import { post } from "./api.js";
import { byId, el, fill, pageData } from "./dom.js";
import { locale, t } from "./format.js";
import { apiForm, checkboxes, checkedValues, copyable, deleteButton, field, input, showList } from "./forms.js";

const { sites, scopes } = pageData();
const TOKENS = "/api/v1/tokens";
const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });

function addForm() {
  const secret = el("div", { id: "new-secret" });
  const name = input("name", "text", "", { required: true, maxlength: 100 });
  const fields = [
    field(t("tokens.name"), name),
    el("label", {}, t("tokens.scopes")),
    checkboxes("scopes", scopes.map((s) => [s, `${s} · ${t(`tokens.scope.${s}`)}`]), ["stats:read"]),
    el("label", {}, t("tokens.sites")),
    checkboxes("sites", sites.map((s) => [s.domain, s.domain])),
    el("p", { class: "help" }, t("tokens.sites_help")),
  ];
  return apiForm({ id: "add-token", fields, submit: t("tokens.add"), after: [secret] }, async (form) => {
    const made = await post(TOKENS, {
      name: name.value.trim(),
      scopes: checkedValues(form, "scopes"),
      sites: checkedValues(form, "sites"),
    });
    form.reset();
    // The secret exists only in this answer: show it until the page is left.
    fill(secret, el("div", { class: "secret" }, el("p", {}, t("tokens.secret")), copyable(made.token, t("tokens.secret"))));
    await showTokens();
  });
}

function tokenRow(token) {
  const path = `${TOKENS}/${encodeURIComponent(token.id)}`;
  const refused = (error) => {
    alert(error.message);
    return showTokens();
  };
  return el(
    "tr",
    { "data-id": token.id },
    el("td", {}, token.name),
    el("td", {}, token.scopes.join(", ")),
    el("td", {}, token.sites.length ? token.sites.join(", ") : t("common.all_sites")),
    el("td", {}, dateTime.format(new Date(token.created_at))),
    el("td", {}, token.created_by),
    el("td", {}, deleteButton(t("tokens.revoke"), token.name, path, showTokens, refused)),
  );
}

function tokenTable(tokens) {
  if (!tokens.length) return el("p", { class: "empty" }, "–");
  const head = el(
    "tr",
    {},
    ["tokens.name", "tokens.scopes", "tokens.sites", "tokens.created", "tokens.created_by"].map((k) => el("th", {}, t(k))),
    el("th", {}),
  );
  return el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, head), el("tbody", {}, tokens.map(tokenRow))));
}

function showTokens() {
  return showList(byId("tokens"), TOKENS, "tokens", tokenTable);
}

fill(byId("add-form"), addForm());
showTokens();
