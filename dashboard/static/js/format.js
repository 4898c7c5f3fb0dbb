// Numbers, durations, dates and messages in the page's language. The server
// picks the language (cookie or Accept-Language) and hands its Intl tag and
// messages over in the page data; every formatter here uses that tag, so
// vi-VN shows 34.231.142 and en-US 34,231,142.

import { pageData } from "./dom.js";

const data = pageData();
export const locale = data.locale;
const messages = data.messages;

/** t("cards.visitors") -> the message; t("x.y", {n: 3}) fills {n}. */
export function t(key, values = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 });
const minutes = new Intl.NumberFormat(locale, { style: "unit", unit: "minute", unitDisplay: "narrow" });
const seconds = new Intl.NumberFormat(locale, { style: "unit", unit: "second", unitDisplay: "narrow" });

export function formatInteger(n) {
  return n === null || n === undefined ? "–" : integer.format(n);
}

export function formatDecimal(n) {
  return n === null || n === undefined ? "–" : decimal.format(n);
}

export function formatCompact(n) {
  return compact.format(n);
}

/** A whole-number percent as the API gives it (bounce_rate 42 -> "42%"). */
export function formatPercent(n) {
  return n === null || n === undefined ? "–" : percent.format(n / 100);
}

/** Seconds as "2m 05s" in the page's units. */
export function formatDuration(totalSeconds) {
  if (totalSeconds === null || totalSeconds === undefined) return "–";
  const whole = Math.round(totalSeconds);
  const m = Math.floor(whole / 60);
  const s = whole % 60;
  return m > 0 ? `${minutes.format(m)} ${seconds.format(s)}` : seconds.format(s);
}

/** The formatter of each metric the API names. */
export const METRIC_FORMAT = {
  visitors: formatInteger,
  visits: formatInteger,
  pageviews: formatInteger,
  events: formatInteger,
  readers: formatInteger,
  views_per_visit: formatDecimal,
  bounce_rate: formatPercent,
  visit_duration: formatDuration,
  engaged_time: formatDuration,
};

export function formatMetric(metric, value) {
  return (METRIC_FORMAT[metric] ?? formatDecimal)(value);
}

/** The change against the previous period as "+12%" / "−3%". */
export function formatChange(change) {
  if (change === null || change === undefined) return "";
  const sign = change > 0 ? "+" : change < 0 ? "−" : "±";
  return sign + percent.format(Math.abs(change) / 100);
}

/** "2024-05-13" or "2024-05-13 10:00:00" (site time) -> a Date whose UTC fields are those. */
export function parseSiteTime(text) {
  const [day, time = "00:00:00"] = text.split(" ");
  return new Date(`${day}T${time}Z`);
}

// The site's times are read as UTC fields (see parseSiteTime), so they are
// formatted in UTC: the browser's own timezone must not shift them.
const dayFormat = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", timeZone: "UTC" });
const monthFormat = new Intl.DateTimeFormat(locale, { month: "short", year: "numeric", timeZone: "UTC" });
const hourFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
const longDay = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" });

/** A bucket label of the chart: hours for a day, days, or months for a year. */
export function formatBucket(text, interval) {
  const date = parseSiteTime(text);
  if (interval === "hour" || interval === "minute") return hourFormat.format(date);
  if (interval === "month") return monthFormat.format(date);
  return dayFormat.format(date);
}

export function formatDay(text) {
  return longDay.format(parseSiteTime(text));
}

const regionNames = typeof Intl.DisplayNames === "function"
  ? new Intl.DisplayNames([locale], { type: "region" })
  : null;

/** "VN" -> "Việt Nam" / "Vietnam"; anything unknown is shown as it came. */
export function countryName(code) {
  if (!code || !regionNames || !/^[A-Z]{2}$/.test(code)) return code || t("common.unknown");
  try {
    return regionNames.of(code) ?? code;
  } catch {
    return code;
  }
}
