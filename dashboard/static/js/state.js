// The state of a stats page lives in its URL query, so a view can be shared
// or bookmarked: ?period=7d&filters=visit:source==Google;event:page==/x&metric=visits
// This module reads and writes that state and turns it into Stats API params.

import { pageData } from "./dom.js";

// The period picker's choices and the default, as the server lists them (pages.py).
const { periods, default_period: DEFAULT_PERIOD } = pageData();
export const PERIODS = periods;
export const CHART_METRICS = ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"];

/** The cards' metrics for a state: all but views per visit under a page filter, where
 *  the Stats API refuses it, as Plausible does. */
export function cardMetrics(state) {
  const onPage = state.filters.some((f) => f.key === "event:page");
  return onPage ? CHART_METRICS.filter((metric) => metric !== "views_per_visit") : CHART_METRICS;
}

/** The chart's metric: the state's, or visitors when its card is not shown. */
export function chartMetric(state) {
  return cardMetrics(state).includes(state.metric) ? state.metric : "visitors";
}

/** The page's state from its URL. */
export function readState(search = location.search) {
  const query = new URLSearchParams(search);
  const period = PERIODS.includes(query.get("period")) ? query.get("period") : DEFAULT_PERIOD;
  const metric = CHART_METRICS.includes(query.get("metric")) ? query.get("metric") : "visitors";
  return {
    period,
    date: query.get("date") ?? "", // custom: "2024-01-01,2024-01-31"; day: one date
    filters: parseFilters(query.get("filters") ?? ""),
    metric,
  };
}

/** Put a state in the URL (a new history entry, so Back undoes a click). */
export function writeState(state, { replace = false } = {}) {
  const url = `${location.pathname}${stateQuery(state)}`;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
}

/** "?period=…&…" for a state; used for links that keep the view (an article page). */
export function stateQuery(state) {
  const query = new URLSearchParams();
  query.set("period", state.period);
  if (state.date && (state.period === "custom" || state.period === "day")) query.set("date", state.date);
  if (state.filters.length) query.set("filters", formatFilters(state.filters));
  if (state.metric && state.metric !== "visitors") query.set("metric", state.metric);
  return `?${query.toString()}`;
}

// -- filters in Plausible's v1 syntax: "visit:source==Google;event:page!=/x" --

export function parseFilters(text) {
  const filters = [];
  for (const part of text.split(";")) {
    const match = /^([a-z_:]+)(==|!=)(.*)$/.exec(part.trim());
    if (match) filters.push({ key: match[1], op: match[2], value: match[3] });
  }
  return filters;
}

export function formatFilters(filters) {
  return filters.map((f) => `${f.key}${f.op}${f.value}`).join(";");
}

/** The state with a filter on `key` (replacing one on the same key). */
export function withFilter(state, key, value) {
  const others = state.filters.filter((f) => f.key !== key);
  return { ...state, filters: [...others, { key, op: "==", value }] };
}

export function withoutFilter(state, key) {
  return { ...state, filters: state.filters.filter((f) => f.key !== key) };
}

// -- the state as Stats API parameters ----------------------------------------

/** Today in the site's timezone, as YYYY-MM-DD (the sv-SE format is ISO). */
export function siteToday(timezone) {
  return new Intl.DateTimeFormat("sv-SE", { timeZone: timezone }).format(new Date());
}

export function addDays(isoDay, days) {
  const date = new Date(`${isoDay}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** period/date/filters for the API. Realtime and yesterday are the dashboard's own
 * names: realtime reads today (and the page refreshes often), yesterday is a day. */
export function periodParams(state, timezone) {
  const params = { filters: formatFilters(state.filters) };
  switch (state.period) {
    case "realtime":
      return { ...params, period: "day" };
    case "yesterday":
      return { ...params, period: "day", date: addDays(siteToday(timezone), -1) };
    case "day":
      return { ...params, period: "day", date: state.date || undefined };
    case "custom": {
      const [from, to] = state.date.split(",");
      if (from && to) return { ...params, period: "custom", date: `${from},${to}` };
      return { ...params, period: DEFAULT_PERIOD };
    }
    default:
      return { ...params, period: state.period };
  }
}

/** The chart's buckets: hours for a day, months for half a year or more, else days. */
export function chartInterval(state) {
  if (["realtime", "day", "yesterday"].includes(state.period)) return "hour";
  if (state.period === "6mo" || state.period === "12mo") return "month";
  return "date";
}
