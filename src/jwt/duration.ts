/**
 * Token lifetimes: seconds or a duration string as `jose` accepts them
 * (`"10m"`, `"1h"`, `"0s"`, `"2 days"`).
 * @module
 */

/** Longest lifetime accepted, seconds (one year). */
export const MAX_TTL_SECONDS = 31_536_000;

const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86_400,
  day: 86_400,
  days: 86_400,
  w: 604_800,
  week: 604_800,
  weeks: 604_800,
  y: 31_557_600,
  yr: 31_557_600,
  yrs: 31_557_600,
  year: 31_557_600,
  years: 31_557_600,
};

/**
 * Parse a lifetime to whole seconds.
 *
 * @param value - non-negative integer seconds, or `<integer> <unit>` (units s, m, h, d, w, y
 *   and their long forms; a year is 365.25 days, as in `jose`)
 * @param label - the option name, for messages
 * @returns seconds, 0..31536000
 * @throws RangeError for anything else
 * @example `parseDurationSeconds('1h', 'ttl') // 3600`
 */
export function parseDurationSeconds(value: number | string, label: string): number {
  let seconds: number;
  if (typeof value === 'number') {
    seconds = value;
  } else if (typeof value === 'string') {
    const m = /^(\d{1,9}) ?([a-z]+)$/i.exec(value.trim());
    const unit = m ? UNITS[(m[2] as string).toLowerCase()] : undefined;
    if (!m || unit === undefined) {
      throw new RangeError(`${label} must be seconds or a duration such as "10m" or "1h"`);
    }
    seconds = Number(m[1]) * unit;
  } else {
    throw new RangeError(`${label} must be seconds or a duration string`);
  }
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_TTL_SECONDS) {
    throw new RangeError(`${label} must be a whole number of seconds in 0..${MAX_TTL_SECONDS}`);
  }
  return seconds;
}
