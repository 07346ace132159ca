import { BlockList, isIP } from 'node:net';

/** One parsed CIDR entry, kept for display and for building a matcher. */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
  readonly text: string;
}

/** Parses `a.b.c.d/n`, `v6::/n` or a bare address (a /32 or /128). Returns an error text instead of throwing. */
export function parseCidr(entry: string): Cidr | string {
  const text = entry.trim();
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return `"${text}" is not an IPv4 or IPv6 address or CIDR`;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    return `"${text}" has a prefix length outside 0–${max}`;
  }
  return { address, prefix: Number(prefixText), family, text };
}

/** Splits a comma-separated list into trimmed, non-empty entries. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** Strips the `::ffff:` prefix Node gives IPv4 peers on a dual-stack socket. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** A set of subnets that answers "is this address inside?" in constant time per family. */
export class SubnetMatcher {
  private readonly list = new BlockList();
  /** Recent answers: BlockList.check allocates per call, and Telegram sends from few addresses. */
  private readonly recent = new Map<string, boolean>();

  constructor(readonly cidrs: readonly Cidr[]) {
    for (const cidr of cidrs) this.list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }

  get isEmpty(): boolean {
    return this.cidrs.length === 0;
  }

  contains(address: string | undefined): boolean {
    if (!address) return false;
    const known = this.recent.get(address);
    if (known !== undefined) return known;
    const answer = this.check(address);
    if (this.recent.size >= 10_000) this.recent.clear();
    this.recent.set(address, answer);
    return answer;
  }

  private check(address: string): boolean {
    const normalized = normalizeAddress(address);
    const version = isIP(normalized);
    if (version === 0) return false;
    return this.list.check(normalized, version === 4 ? 'ipv4' : 'ipv6');
  }
}
