// The API tokens admin page: create a token (name, scopes, sites), see its
// secret once, revoke tokens. Through /api/v1/tokens (admins only).

import { del, get, post } from "./api.js";
import { byId, el, fill, pageData } from "./dom.js";
import { locale, t } from "./format.js";
import { checkboxes, checkedValues, copyable, field, input, statusLine } from "./forms.js";

const { sites } = pageData();
const SCOPES = ["stats:read", "sites:write", "events:write"];
const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });

function addForm() {
  const status = statusLine();
  const secret = el("div", { id: "new-secret" });
  const name = input("name", "text", "", { required: true, maxlength: 100 });
  const form = el(
    "form",
    { class: "stack", id: "add-token" },
    field(t("tokens.name"), name),
    el("label", {}, t("tokens.scopes")),
    checkboxes("scopes", SCOPES.map((s) => [s, `${s} · ${t(`tokens.scope.${s}`)}`]), ["stats:read"]),
    el("label", {}, t("tokens.sites")),
    checkboxes("sites", sites.map((s) => [s.domain, s.domain])),
    el("p", { class: "help" }, t("tokens.sites_help")),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, t("tokens.add"))),
    status.node,
    secret,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const made = await post("/api/v1/tokens", {
        name: name.value.trim(),
        scopes: checkedValues(form, "scopes"),
        sites: checkedValues(form, "sites"),
      });
      form.reset();
      status.ok();
      // The secret exists only in this answer: show it until the page is left.
      fill(secret, el("div", { class: "secret" }, el("p", {}, t("tokens.secret")), copyable(made.token, t("tokens.secret"))));
      await showTokens();
    } catch (error) {
      status.fail(error);
    }
  });
  return form;
}

function tokenRow(token) {
  const revoke = el("button", { type: "button", class: "danger" }, t("tokens.revoke"));
  revoke.addEventListener("click", async () => {
    if (!confirm(t("common.confirm_delete", { name: token.name }))) return;
    await del(`/api/v1/tokens/${encodeURIComponent(token.id)}`).catch((error) => alert(error.message));
    await showTokens();
  });
  return el(
    "tr",
    { "data-id": token.id },
    el("td", {}, token.name),
    el("td", {}, token.scopes.join(", ")),
    el("td", {}, token.sites.length ? token.sites.join(", ") : t("common.all_sites")),
    el("td", {}, dateTime.format(new Date(token.created_at))),
    el("td", {}, token.created_by),
    el("td", {}, revoke),
  );
}

async function showTokens() {
  const list = byId("tokens");
  try {
    const { tokens } = await get("/api/v1/tokens");
    if (!tokens.length) return fill(list, el("p", { class: "empty" }, "–"));
    const head = el(
      "tr",
      {},
      ["tokens.name", "tokens.scopes", "tokens.sites", "tokens.created", "tokens.created_by"].map((k) => el("th", {}, t(k))),
      el("th", {}),
    );
    fill(list, el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, head), el("tbody", {}, tokens.map(tokenRow)))));
  } catch (error) {
    fill(list, el("p", { class: "error" }, error.message));
  }
}

fill(byId("add-token-form"), addForm());
showTokens();
