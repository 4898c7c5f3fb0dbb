// The site page: online now, metric cards, the chart, top articles and the
// breakdown panels, all for the period and filters in the URL. Every change
// (period, a clicked row, a removed chip, a chosen card) becomes a new URL
// and a reload of the numbers; Back returns to the previous view.

import { stats } from "./api.js";
import { ArticlesTable } from "./articles.js";
import { showCards } from "./cards.js";
import { Chart } from "./chart.js";
import { PeriodPicker, showFilters } from "./controls.js";
import { byId, el, fill, pageData } from "./dom.js";
import { t } from "./format.js";
import { pollOnline } from "./online.js";
import { Panel } from "./panels.js";
import { cardMetrics, chartInterval, chartMetric, periodParams, readState, stateQuery, withFilter, writeState } from "./state.js";

const { domain, timezone } = pageData().site;
const REALTIME_REFRESH_MS = 15000;

const tab = (property) => ({ property, label: t(`property.${property}`) });
const PANELS = [
  ["panel-pages", "panels.pages", ["event:page", "visit:entry_page", "visit:exit_page"]],
  ["panel-sources", "panels.sources", ["visit:source", "visit:referrer"]],
  ["panel-campaigns", "panels.campaigns", ["visit:utm_campaign", "visit:utm_source", "visit:utm_medium", "visit:utm_content", "visit:utm_term"]],
  ["panel-locations", "panels.locations", ["visit:country"]],
  ["panel-devices", "panels.devices", ["visit:device", "visit:browser", "visit:os"]],
];

let state = readState();
const chart = new Chart(byId("chart"));
const articles = new ArticlesTable(byId("articles"), domain);
const picker = new PeriodPicker(byId("period-picker"), timezone, change);
const panels = PANELS.map(
  ([id, title, properties]) => new Panel(byId(id), t(title), properties.map(tab), pick),
);

/** A user asked for another view: remember it in the URL, then show it. */
function change(next) {
  state = next;
  writeState(state);
  load();
}

function pick(property, value) {
  change(withFilter(state, property, value));
}

let generation = 0;

async function load() {
  const mine = ++generation; // answers of an older load are dropped
  const params = { site_id: domain, ...periodParams(state, timezone) };
  picker.show(state);
  showFilters(byId("filters"), state, change);
  for (const link of document.querySelectorAll("a[data-keep-state]")) {
    link.search = stateQuery(state);
  }
  await Promise.all([
    loadCards(params, mine),
    loadChart(params, mine),
    articles.load(params, stateQuery(state)),
    ...panels.map((panel) => panel.load(params)),
  ]);
  if (mine !== generation) return;
  document.body.dataset.loaded = String(mine); // lets tests wait for a complete view
  // Time from navigation to the first complete view: the "page ready" figure.
  document.body.dataset.readyMs ??= String(Math.round(performance.now()));
}

async function loadCards(params, mine) {
  const container = byId("cards");
  try {
    const metrics = cardMetrics(state);
    const answer = await stats.aggregate({ ...params, metrics: metrics.join(","), compare: "previous_period" });
    if (mine !== generation) return;
    showCards(container, metrics, answer.results, chartMetric(state), (metric) => change({ ...state, metric }));
  } catch (error) {
    fill(container, el("p", { class: "error" }, error.message));
  }
}

async function loadChart(params, mine) {
  const interval = chartInterval(state);
  try {
    const metric = chartMetric(state);
    const answer = await stats.timeseries({ ...params, metrics: metric, interval });
    if (mine !== generation) return;
    chart.show(answer.results, metric, interval, t(`metric.${metric}`));
  } catch (error) {
    fill(byId("chart"), el("p", { class: "error" }, error.message));
  }
}

window.addEventListener("popstate", () => {
  state = readState();
  load();
});

// Realtime keeps the whole page fresh; other periods change too slowly to poll.
setInterval(() => {
  if (state.period === "realtime" && !document.hidden) load();
}, REALTIME_REFRESH_MS);

pollOnline(byId("online-count"), domain);
load();
