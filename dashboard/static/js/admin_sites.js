// The sites admin page: add a site, change its settings, copy its snippet tag,
// delete it. Everything goes through the Sites API (/api/v1/sites).

import { post, put } from "./api.js";
import { byId, el, fill } from "./dom.js";
import { formatInteger, t } from "./format.js";
import { apiForm, copyable, deleteButton, field, input, select, showList, statusLine } from "./forms.js";

const TIMEZONES = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
const SITES = "/api/v1/sites";

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
  const domain = input("domain", "text", "", { required: true, placeholder: "news.example" });
  const fields = [field(t("sites.domain"), domain), siteFields({})];
  return apiForm({ id: "add-site", fields, submit: t("common.add") }, async (form) => {
    await post(SITES, { domain: domain.value.trim(), ...siteValues(form) });
    form.reset();
    await showSites();
  });
}

function siteItem(site) {
  const status = statusLine();
  const path = `${SITES}/${encodeURIComponent(site.domain)}`;
  const remove = deleteButton(t("common.delete"), site.domain, path, showSites, status.fail);
  const fields = [siteFields(site), el("label", {}, t("sites.snippet")), copyable(site.snippet, t("sites.snippet"))];
  const form = apiForm({ fields, submit: t("common.save"), buttons: [remove], status }, (form) => put(path, siteValues(form)));
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

function showSites() {
  return showList(byId("sites"), SITES, "sites", (sites) => (sites.length ? sites.map(siteItem) : el("p", { class: "empty" }, t("home.empty"))));
}

document.body.append(el("datalist", { id: "timezones" }, TIMEZONES.map((zone) => el("option", { value: zone }))));
fill(byId("add-form"), addForm());
showSites();
