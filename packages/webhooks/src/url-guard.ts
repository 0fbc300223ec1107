/**
 * Where webhooks may go. An endpoint that resolves to loopback, a private network, link-local
 * (the cloud metadata service at 169.254.169.254 among them) or any other special-purpose
 * address is refused: when it is created or changed, and again at every delivery, against the
 * addresses the connection actually uses ({@link guardedLookup}), so a name that resolves
 * elsewhere later (DNS rebinding) is refused too. Plain http needs `allowHttp`; loopback needs
 * `allowLoopback` (development and tests); private and metadata addresses are never allowed.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** What outbound webhook traffic may reach. */
export interface OutboundPolicy {
  /** Plain `http:` URLs (off in production: deliveries carry organizations' events). */
  readonly allowHttp: boolean;
  /** Loopback addresses (127.0.0.0/8, ::1) and `localhost`, for development and tests. */
  readonly allowLoopback: boolean;
}

/** Why a URL or address was refused, in words an API caller can act on. */
export class UnsafeEndpointError extends Error {
  constructor(
    readonly reason:
      'webhooks.url_invalid' | 'webhooks.scheme_not_allowed' | 'webhooks.address_not_allowed' | 'webhooks.unresolvable',
    message: string,
  ) {
    super(message);
    this.name = 'UnsafeEndpointError';
  }
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** Special-purpose ranges (RFC 6890 and successors) that no webhook may reach, loopback aside. */
const special = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  special.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (fd00:ec2::254, a metadata address, among them)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const)
  special.addSubnet(net, prefix, 'ipv6');

/** Names that reach a cloud metadata service whatever they resolve to here. */
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data']);

/** The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::…`) IPv6 one. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (dotted?.[1]) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex?.[1] || !hex[2]) return undefined;
  const high = parseInt(hex[1], 16);
  const low = parseInt(hex[2], 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Why `address` (an IP literal) may not be reached under `policy`, or undefined when it may. */
export function addressRefusal(address: string, policy: OutboundPolicy): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  const inner = family === 6 ? embeddedIpv4(address) : undefined;
  if (inner !== undefined) return addressRefusal(inner, policy);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (loopback.check(address, type)) return policy.allowLoopback ? undefined : `${address} is a loopback address`;
  if (special.check(address, type)) return `${address} is a private, link-local or reserved address`;
  return undefined;
}

/**
 * Checks what can be checked without the network: an absolute http(s) URL without
 * credentials, https unless `allowHttp`, and a host that is not a refused literal or name.
 */
export function checkEndpointUrl(raw: string, policy: OutboundPolicy): URL {
  if (!URL.canParse(raw)) throw new UnsafeEndpointError('webhooks.url_invalid', 'The URL is not an absolute URL.');
  const url = new URL(raw);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UnsafeEndpointError('webhooks.scheme_not_allowed', `Endpoints use https, not ${url.protocol}`);
  if (url.protocol === 'http:' && !policy.allowHttp)
    throw new UnsafeEndpointError(
      'webhooks.scheme_not_allowed',
      'Endpoints use https; plain http is not allowed here.',
    );
  if (url.username !== '' || url.password !== '')
    throw new UnsafeEndpointError('webhooks.url_invalid', 'The URL must not carry a user name or password.');
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (METADATA_NAMES.has(host))
    throw new UnsafeEndpointError('webhooks.address_not_allowed', `${host} is a cloud metadata service.`);
  if (isIP(host) !== 0) {
    const refusal = addressRefusal(host, policy);
    if (refusal) throw new UnsafeEndpointError('webhooks.address_not_allowed', `Endpoints must be public: ${refusal}.`);
  }
  // Names (`localhost` among them) are judged by what they resolve to: assertPublicEndpoint, guardedLookup.
  return url;
}

/** Resolves every address of `hostname` (A and AAAA). */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

/**
 * {@link checkEndpointUrl}, then resolves the host and refuses it when **any** of its addresses
 * is refused (a name with one public and one private address could be steered to the private
 * one). For creating and changing an endpoint.
 */
export async function assertPublicEndpoint(
  raw: string,
  policy: OutboundPolicy,
  resolve: Resolver = systemResolver,
): Promise<URL> {
  const url = checkEndpointUrl(raw, policy);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return url;
  let addresses: readonly LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    throw new UnsafeEndpointError(
      'webhooks.unresolvable',
      `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`,
    );
  }
  if (addresses.length === 0) throw new UnsafeEndpointError('webhooks.unresolvable', `${host} has no address.`);
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, policy);
    if (refusal)
      throw new UnsafeEndpointError(
        'webhooks.address_not_allowed',
        `Endpoints must be public: ${host} resolves to ${refusal}.`,
      );
  }
  return url;
}

/**
 * A `lookup` for `http.request`/`https.request` that refuses a host when any address it
 * resolves to is refused: the check happens on the addresses the socket then connects to, at
 * every delivery, so DNS rebinding cannot slip between a check and the connection.
 */
export function guardedLookup(policy: OutboundPolicy, resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    const host = hostname.replace(/^\[|\]$/g, '');
    const answer = (addresses: readonly LookupAddress[]) => {
      for (const { address } of addresses) {
        const refusal = addressRefusal(address, policy);
        if (refusal) {
          callback(new UnsafeEndpointError('webhooks.address_not_allowed', `${host} resolves to ${refusal}.`), '', 4);
          return;
        }
      }
      const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
      const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
      if (usable.length === 0) {
        callback(new UnsafeEndpointError('webhooks.unresolvable', `${host} has no usable address.`), '', 4);
        return;
      }
      if (options.all) callback(null, [...usable]);
      else callback(null, usable[0]!.address, usable[0]!.family);
    };
    const family = isIP(host);
    if (family !== 0) return answer([{ address: host, family }]);
    resolve(host).then(answer, (err: Error) => callback(err as NodeJS.ErrnoException, '', 4));
  };
}
