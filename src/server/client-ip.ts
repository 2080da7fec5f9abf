/**
 * The client's IP address, for rate limits and logs: the socket's peer, or
 * with `trustProxy` hops the matching `X-Forwarded-For` entry. IPv6 clients
 * are limited per /64 network (one host usually holds a whole /64).
 * @module
 */
import type { Context } from 'hono';

/** The raw peer address of the request (`unknown` outside Node's server). */
function peerAddress(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)
    ?.incoming;
  return incoming?.socket?.remoteAddress ?? 'unknown';
}

/**
 * The client address.
 * @param c - the request context
 * @param trustProxy - proxies in front whose `X-Forwarded-For` entries are trusted (0: none)
 */
export function clientIp(c: Context, trustProxy: number): string {
  const peer = peerAddress(c);
  if (trustProxy <= 0) return peer;
  const header = c.req.header('x-forwarded-for');
  if (!header) return peer;
  const hops = header
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (hops.length === 0) return peer;
  const candidate = hops[Math.max(0, hops.length - trustProxy)] as string;
  return /^[0-9A-Fa-f.:]{2,45}$/.test(candidate) ? candidate : peer;
}

/** Expand an IPv6 address to 8 groups, or null when it is not one. */
function expandIpv6(ip: string): string[] | null {
  const parts = ip.split('::');
  if (parts.length > 2) return null;
  const head = parts[0] ? (parts[0] as string).split(':') : [];
  const tail = parts.length === 2 && parts[1] ? (parts[1] as string).split(':') : [];
  const fill = 8 - head.length - tail.length;
  if (parts.length === 1 && fill !== 0) return null;
  if (fill < 0) return null;
  const groups = [...head, ...Array<string>(parts.length === 2 ? fill : 0).fill('0'), ...tail];
  return groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) ? groups : null;
}

/**
 * The rate-limit key of an address: IPv4 as is (also when IPv4-mapped),
 * IPv6 reduced to its /64 network.
 */
export function ipRateKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  if (!ip.includes(':')) return ip;
  const groups = expandIpv6(ip.replace(/%.*$/, ''));
  if (!groups) return ip.slice(0, 64);
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
