// The dashboard's one door to the JSON API. The pages are clients of the same
// API other services use; here they authenticate with the session cookie, and
// every call that changes something carries the session's CSRF token.

import { pageData } from "./dom.js";

const csrfToken = pageData().csrf ?? "";

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field ?? "";
  }
}

/** "/api/v1/stats/aggregate" + {site_id: "x", period: "7d"} -> URL with the query. */
export function apiUrl(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export async function request(method, path, params = {}, body = undefined) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(apiUrl(path, params), {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    // The session ended (logout elsewhere, expiry): log in again and come back.
    const next = location.pathname + location.search;
    location.assign(`/login?next=${encodeURIComponent(next)}`);
    throw new ApiError(401, "not logged in");
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, payload?.error ?? response.statusText, payload?.field);
  }
  return payload;
}

export const get = (path, params) => request("GET", path, params);
export const post = (path, body) => request("POST", path, {}, body);
export const put = (path, body) => request("PUT", path, {}, body);
export const del = (path) => request("DELETE", path);

// -- the Stats API (Plausible's v1 and footfall's own) ---------------------

const STATS = "/api/v1/stats";

export const stats = {
  realtime: (params) => get(`${STATS}/realtime/visitors`, params),
  aggregate: (params) => get(`${STATS}/aggregate`, params),
  timeseries: (params) => get(`${STATS}/timeseries`, params),
  breakdown: (params) => get(`${STATS}/breakdown`, params),
  articles: (params) => get(`${STATS}/articles`, params),
  article: (id, params) => get(`${STATS}/articles/${encodeURIComponent(id)}`, params),
  /** The link that downloads a breakdown (or the articles) as CSV. */
  csvUrl: (endpoint, params) => apiUrl(`${STATS}/${endpoint}`, { ...params, format: "csv" }),
};
