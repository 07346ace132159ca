import { parseUpdate } from './update-body.js';
import { clientAddress } from './client-address.js';
import { SubnetMatcher, parseCidr, type Cidr } from '../common/cidr.js';
import type { FastifyRequest } from 'fastify';

describe('parseUpdate', () => {
  it('finds update_id and the kind, including unknown kinds', () => {
    expect(parseUpdate(Buffer.from('{"update_id":1,"message":{}}'))).toEqual({
      updateId: 1,
      type: 'message',
    });
    expect(parseUpdate(Buffer.from('{"brand_new":{},"update_id":2}'))).toEqual({
      updateId: 2,
      type: 'brand_new',
    });
  });

  it.each([
    ['{', 'body is not valid JSON'],
    ['[]', 'body must be a JSON object'],
    ['"x"', 'body must be a JSON object'],
    ['{"update_id":1e400}', 'update_id must be an integer'],
    ['{"update_id":-0.5}', 'update_id must be an integer'],
  ])('rejects %s', (body, reason) => {
    expect(parseUpdate(Buffer.from(body))).toBe(reason);
  });
});

const cidrs = (...texts: string[]): Cidr[] => texts.map((t) => parseCidr(t) as Cidr);
const request = (peer: string, forwarded?: string) =>
  ({
    raw: { socket: { remoteAddress: peer } },
    headers: forwarded ? { 'x-forwarded-for': forwarded } : {},
  }) as unknown as FastifyRequest;

describe('clientAddress', () => {
  const proxies = new SubnetMatcher(cidrs('10.0.0.0/8'));

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientAddress(request('203.0.113.9', '149.154.160.1'), proxies)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.2', '149.154.160.1'), new SubnetMatcher([]))).toBe('10.0.0.2');
  });

  it('takes the right-most untrusted hop behind trusted proxies', () => {
    expect(clientAddress(request('10.0.0.2', '1.2.3.4, 149.154.160.1, 10.1.1.1'), proxies)).toBe(
      '149.154.160.1',
    );
    expect(clientAddress(request('10.0.0.2'), proxies)).toBe('10.0.0.2');
  });
});

describe('SubnetMatcher', () => {
  it('matches IPv4, IPv4-mapped IPv6 and IPv6', () => {
    const sut = new SubnetMatcher(cidrs('149.154.160.0/20', '2001:db8::/32', '192.0.2.7'));
    expect(sut.contains('149.154.175.255')).toBe(true);
    expect(sut.contains('149.154.176.0')).toBe(false);
    expect(sut.contains('::ffff:149.154.160.10')).toBe(true);
    expect(sut.contains('2001:db8:1::1')).toBe(true);
    expect(sut.contains('192.0.2.7')).toBe(true);
    expect(sut.contains('192.0.2.8')).toBe(false);
    expect(sut.contains(undefined)).toBe(false);
    expect(sut.contains('garbage')).toBe(false);
  });

  it('explains bad entries', () => {
    expect(parseCidr('10.0.0.0/33')).toBe('"10.0.0.0/33" has a prefix length outside 0–32');
    expect(parseCidr('example.com/8')).toBe('"example.com/8" is not an IPv4 or IPv6 address or CIDR');
  });
});
