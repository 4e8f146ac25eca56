/**
 * Which addresses webhooks may reach (SSRF guard). By default a callback may not target loopback,
 * private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast or reserved addresses,
 * nor a name that resolves to one: a user who may submit jobs must not be able to make the service
 * POST into the network it runs in. `webhookAllowPrivate` lifts the rule (local development, or
 * receivers on an internal network).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Ranges a webhook may not reach unless private targets are allowed (IANA special-purpose registries). */
const BLOCKED = (() => {
  const b = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
    ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
    ['224.0.0.0', 4], ['240.0.0.0', 4],
  ] as const) b.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of [
    ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64],
  ] as const) b.addSubnet(net, prefix, 'ipv6');
  return b;
})();

/** IPv4 written inside IPv6 (`::ffff:10.0.0.1`, `::ffff:a00:1`, `64:ff9b::10.0.0.1`): the IPv4 part, else undefined. */
function embeddedIpv4(ip: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ip);
  if (!m) return undefined;
  if (m[1] !== undefined) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True if `ip` (an IPv4 or IPv6 literal, brackets allowed) is in a range webhooks may not reach. */
export function isBlockedAddress(ip: string): boolean {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(bare);
  if (family === 0) return false;
  if (family === 4) return BLOCKED.check(bare, 'ipv4');
  const v4 = embeddedIpv4(bare.toLowerCase());
  if (v4 !== undefined) return BLOCKED.check(v4, 'ipv4');
  return BLOCKED.check(bare, 'ipv6');
}

/**
 * Why a URL's host may not be a webhook target before any lookup (an address literal in a blocked
 * range, or `localhost`), or undefined. Names are checked again on every delivery by {@link guardedLookup}.
 */
export function blockedHostReason(hostname: string): string | undefined {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return `${h} is a loopback name`;
  if (isBlockedAddress(h)) return `${h} is a loopback, private, link-local or reserved address`;
  return undefined;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that refuses a name if any address it resolves to is blocked, and
 * connects only to the addresses it checked (no second lookup an attacker's DNS could answer
 * differently). The error's code is `EBLOCKEDTARGET`.
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isBlockedAddress(a.address));
    if (bad !== undefined || list.length === 0) {
      const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${bad?.address ?? 'no address'}, which webhooks may not reach (webhookAllowPrivate)`);
      e.code = 'EBLOCKEDTARGET';
      return callback(e, []);
    }
    if (options.all === true) return callback(null, list);
    const first = list[0]!;
    return callback(null, first.address, first.family);
  });
}
