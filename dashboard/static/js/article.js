// An article's page: its totals, its chart, readers now and where its visitors
// came from, for the period in the URL (footfall's /api/v1/stats/articles/{id}).
// A source links to the site page filtered by it.

import { stats } from "./api.js";
import { showCards } from "./cards.js";
import { Chart } from "./chart.js";
import { PeriodPicker } from "./controls.js";
import { byId, el, fill, pageData } from "./dom.js";
import { formatInteger, t } from "./format.js";
import { showRows } from "./panels.js";
import { chartInterval, periodParams, readState, stateQuery, withFilter, writeState } from "./state.js";

const { site, article } = pageData();
const METRICS = ["pageviews", "visitors", "visits", "engaged_time"];
const REALTIME_REFRESH_MS = 15000;

let state = readState();
if (!METRICS.includes(state.metric)) state = { ...state, metric: "pageviews" };
const chart = new Chart(byId("chart"));
const picker = new PeriodPicker(byId("period-picker"), site.timezone, change);
const sources = el("div", { class: "rows" });
fill(byId("panel-sources"), el("header", {}, el("h2", {}, t("article.sources"))), sources);

function change(next) {
  state = next;
  writeState(state);
  load();
}

let generation = 0;

async function load() {
  const mine = ++generation;
  picker.show(state);
  for (const link of document.querySelectorAll("a[data-keep-state]")) link.search = stateQuery(state);
  const { period, date } = periodParams(state, site.timezone);
  const interval = chartInterval(state);
  try {
    const answer = await stats.article(article, { site_id: site.domain, period, date, interval });
    if (mine !== generation) return;
    const title = answer.title || article;
    byId("article-title").textContent = title;
    document.title = `${title} · ${site.domain}`;
    byId("readers-now").textContent = formatInteger(answer.readers);
    const totals = Object.fromEntries(METRICS.map((m) => [m, { value: answer.totals[m] }]));
    showCards(byId("cards"), METRICS, totals, state.metric, (metric) => change({ ...state, metric }));
    chart.show(answer.results, state.metric, interval, t(`metric.${state.metric}`));
    showRows(sources, "visit:source", answer.sources, (property, value) => {
      // The site page, same period, filtered by this source.
      location.assign(`/sites/${encodeURIComponent(site.domain)}${stateQuery(withFilter({ ...state, filters: [] }, property, value))}`);
    });
  } catch (error) {
    fill(byId("cards"), el("p", { class: "error" }, error.message));
  }
  document.body.dataset.loaded = String(mine);
}

window.addEventListener("popstate", () => {
  state = readState();
  load();
});
setInterval(() => {
  if (state.period === "realtime" && !document.hidden) load();
}, REALTIME_REFRESH_MS);
load();
