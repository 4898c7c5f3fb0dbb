// The sites admin page: add a site, change its settings, copy its snippet tag,
// delete it. Everything goes through the Sites API (/api/v1/sites).

import { del, get, post, put } from "./api.js";
import { byId, el, fill } from "./dom.js";
import { formatInteger, t } from "./format.js";
import { copyable, field, input, select, statusLine } from "./forms.js";

const TIMEZONES = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];

function siteFields(site) {
  const timezone = input("timezone", "text", site.timezone ?? "Asia/Ho_Chi_Minh", { list: "timezones", required: true });
  return [
    field(t("sites.timezone"), timezone),
    el("label", {}, input("public_counters", "checkbox", site.public_counters), " ", t("sites.public_counters")),
    el("p", { class: "help" }, t("sites.public_counters_help")),
    field(
      t("sites.counter_measure"),
      select("counter_measure", [["visits", t("metric.visits")], ["pageviews", t("metric.pageviews")]], site.counter_measure ?? "visits"),
    ),
    field(t("sites.counter_offset"), input("counter_offset", "number", site.counter_offset ?? 0, { min: 0 }), t("sites.counter_offset_help")),
    field(t("sites.online_window"), input("online_window", "number", site.online_window ?? 300, { min: 10, max: 86400 })),
    field(t("sites.article_pattern"), input("article_pattern", "text", site.article_pattern ?? ""), t("sites.article_pattern_help")),
  ];
}

/** The site settings a form holds, as the Sites API takes them. */
function siteValues(form) {
  return {
    timezone: form.elements.timezone.value.trim(),
    public_counters: form.elements.public_counters.checked,
    counter_measure: form.elements.counter_measure.value,
    counter_offset: Number(form.elements.counter_offset.value || 0),
    online_window: Number(form.elements.online_window.value || 300),
    article_pattern: form.elements.article_pattern.value,
  };
}

function addForm() {
  const status = statusLine();
  const domain = input("domain", "text", "", { required: true, placeholder: "news.example" });
  const form = el(
    "form",
    { class: "stack", id: "add-site" },
    field(t("sites.domain"), domain),
    siteFields({}),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, t("common.add"))),
    status.node,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await post("/api/v1/sites", { domain: domain.value.trim(), ...siteValues(form) });
      form.reset();
      status.ok();
      await showSites();
    } catch (error) {
      status.fail(error);
    }
  });
  return form;
}

function siteItem(site) {
  const status = statusLine();
  const remove = el("button", { type: "button", class: "danger" }, t("common.delete"));
  const form = el(
    "form",
    { class: "stack" },
    siteFields(site),
    el("label", {}, t("sites.snippet")),
    copyable(site.snippet, t("sites.snippet")),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, t("common.save")), remove),
    status.node,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await put(`/api/v1/sites/${encodeURIComponent(site.domain)}`, siteValues(form));
      status.ok();
    } catch (error) {
      status.fail(error);
    }
  });
  remove.addEventListener("click", async () => {
    if (!confirm(t("common.confirm_delete", { name: site.domain }))) return;
    try {
      await del(`/api/v1/sites/${encodeURIComponent(site.domain)}`);
      await showSites();
    } catch (error) {
      status.fail(error);
    }
  });
  return el(
    "details",
    { class: "item", "data-domain": site.domain },
    el(
      "summary",
      {},
      el("b", {}, site.domain),
      el("span", { class: "muted" }, site.timezone),
      site.public_counters ? el("span", { class: "muted" }, `${t("sites.public_counters")} +${formatInteger(site.counter_offset)}`) : null,
      el("a", { href: `/sites/${encodeURIComponent(site.domain)}` }, t("sites.open")),
    ),
    form,
  );
}

async function showSites() {
  const list = byId("sites");
  try {
    const { sites } = await get("/api/v1/sites");
    fill(list, sites.length ? sites.map(siteItem) : el("p", { class: "empty" }, t("home.empty")));
  } catch (error) {
    fill(list, el("p", { class: "error" }, error.message));
  }
}

document.body.append(el("datalist", { id: "timezones" }, TIMEZONES.map((zone) => el("option", { value: zone }))));
fill(byId("add-site-form"), addForm());
showSites();
