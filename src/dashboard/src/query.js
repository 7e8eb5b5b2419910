// The filter form <-> the query string of /api/v1/calls, /stats and /export.csv (API.md section 3).

/** The list filters, in the order the form shows them. */
export const FILTERS = /** @type {const} */ (['from', 'to', 'agent_id', 'number', 'direction', 'status', 'contact']);

/**
 * Turns the form's values into API parameters: empty values dropped, `datetime-local` values (local
 * wall-clock time, no zone) sent as ISO-8601 instants.
 * @param {Record<string, string | undefined>} values
 * @returns {Record<string, string>}
 */
export function apiFilters(values) {
  /** @type {Record<string, string>} */
  const result = {};
  for (const name of FILTERS) {
    const value = values[name]?.trim();
    if (!value) continue;
    result[name] = name === 'from' || name === 'to' ? new Date(value).toISOString() : value;
  }
  return result;
}

/**
 * The chart's time buckets: hours for up to three days, days beyond.
 * @param {string | undefined} from ISO-8601
 * @param {string | undefined} to ISO-8601
 * @returns {'hour' | 'day'}
 */
export function timeBucket(from, to) {
  if (!from) return 'day';
  const end = to ? Date.parse(to) : Date.now();
  return end - Date.parse(from) <= 3 * 24 * 3600 * 1000 ? 'hour' : 'day';
}

/**
 * A `datetime-local` input value for a Date, in the browser's zone.
 * @param {Date} date
 */
export function localInputValue(date) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * @param {string} path
 * @param {Record<string, string | number | undefined | null>} params
 */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
