/**
 * Kafka's ConnectionQuotas (max.connections, max.connections.per.ip,
 * max.connections.per.ip.overrides), shared by every listener of a broker. A connection over a
 * limit is closed as soon as it is accepted.
 */
export class ConnectionQuotas {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(
    private readonly maxConnections: number,
    private readonly maxPerIp: number,
    private readonly overrides: ReadonlyMap<string, number>,
  ) {}

  get count(): number { return this.total; }

  /** Takes a slot for a new connection from `address`; returns why it is refused, or null. `exempt`: not counted against max.connections (the inter-broker listener). */
  tryAcquire(address: string, exempt = false): string | null {
    const ip = normaliseIp(address);
    const limit = this.overrides.get(ip) ?? this.maxPerIp;
    const current = this.perIp.get(ip) ?? 0;
    if (current >= limit) return `too many connections from ${ip} (max.connections.per.ip ${limit})`;
    if (!exempt && this.total >= this.maxConnections) return `too many connections (max.connections ${this.maxConnections})`;
    this.perIp.set(ip, current + 1);
    this.total++;
    return null;
  }

  release(address: string): void {
    const ip = normaliseIp(address);
    const current = this.perIp.get(ip) ?? 0;
    if (current <= 1) this.perIp.delete(ip); else this.perIp.set(ip, current - 1);
    this.total = Math.max(0, this.total - 1);
  }
}

/** An IPv4 address seen through an IPv6 socket (::ffff:1.2.3.4) counts as the IPv4 address. */
export function normaliseIp(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Parses max.connections.per.ip.overrides: `host:count,host:count` (IPv6 hosts in brackets or bare). */
export function parseIpOverrides(value: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const colon = entry.lastIndexOf(':');
    const host = entry.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const n = Number(entry.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(n) || n < 0) throw new Error(`cannot parse max.connections.per.ip.overrides entry '${entry}' (expected host:count)`);
    out.set(normaliseIp(host), n);
  }
  return out;
}
