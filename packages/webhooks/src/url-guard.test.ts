import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  UnsafeEndpointError,
  addressRefusal,
  assertPublicEndpoint,
  checkEndpointUrl,
  guardedLookup,
  type OutboundPolicy,
  type Resolver,
} from './url-guard';

const STRICT: OutboundPolicy = { allowHttp: false, allowLoopback: false };
const DEV: OutboundPolicy = { allowHttp: true, allowLoopback: true };

/** A resolver answering from a table, as a DNS server that says whatever it likes would. */
const fakeDns =
  (table: Record<string, string[]>): Resolver =>
  async (host) => {
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`queryA ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

async function refusal(p: Promise<unknown>): Promise<UnsafeEndpointError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnsafeEndpointError);
  return err as UnsafeEndpointError;
}

describe('addressRefusal', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '::1',
    '10.0.0.1',
    '172.16.4.2',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    'fd00:ec2::254',
    'fe80::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::10.0.0.1',
  ])('refuses %s', (address) => {
    expect(addressRefusal(address, STRICT)).toMatch(/loopback|private/);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('lets %s through', (address) => {
    expect(addressRefusal(address, STRICT)).toBeUndefined();
  });

  it('lets loopback through only when allowed, and never private or metadata addresses', () => {
    expect(addressRefusal('127.0.0.1', DEV)).toBeUndefined();
    expect(addressRefusal('::1', DEV)).toBeUndefined();
    expect(addressRefusal('10.0.0.1', DEV)).toMatch(/private/);
    expect(addressRefusal('169.254.169.254', DEV)).toMatch(/link-local/);
  });
});

describe('checkEndpointUrl', () => {
  it('wants https unless http is allowed, and no credentials in the URL', () => {
    expect(checkEndpointUrl('https://hooks.example.com/q', STRICT).host).toBe('hooks.example.com');
    expect(() => checkEndpointUrl('http://hooks.example.com/q', STRICT)).toThrow(/plain http/);
    expect(checkEndpointUrl('http://hooks.example.com/q', DEV).protocol).toBe('http:');
    expect(() => checkEndpointUrl('ftp://hooks.example.com', DEV)).toThrow(/https, not ftp/);
    expect(() => checkEndpointUrl('https://user:pw@hooks.example.com', STRICT)).toThrow(/user name or password/);
    expect(() => checkEndpointUrl('/relative', STRICT)).toThrow(/absolute/);
  });

  it('refuses loopback, private and metadata hosts written into the URL', () => {
    for (const url of [
      'https://127.0.0.1/hook',
      'https://10.0.0.1/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]:8443/hook',
      'https://[::ffff:7f00:1]/hook',
      'https://metadata.google.internal/computeMetadata/v1/',
    ]) {
      expect(() => checkEndpointUrl(url, STRICT), url).toThrow(UnsafeEndpointError);
    }
  });
});

describe('assertPublicEndpoint', () => {
  const dns = fakeDns({
    'public.example.com': ['93.184.215.14'],
    'rebind.example.com': ['127.0.0.1'],
    'mixed.example.com': ['93.184.215.14', '10.0.0.7'],
    'meta.example.com': ['169.254.169.254'],
  });

  it('refuses a name when any of its addresses is refused', async () => {
    await expect(assertPublicEndpoint('https://public.example.com/x', STRICT, dns)).resolves.toBeInstanceOf(URL);
    expect((await refusal(assertPublicEndpoint('https://rebind.example.com/x', STRICT, dns))).message).toMatch(
      /resolves to 127\.0\.0\.1 is a loopback/,
    );
    expect((await refusal(assertPublicEndpoint('https://mixed.example.com/x', STRICT, dns))).reason).toBe(
      'webhooks.address_not_allowed',
    );
    expect((await refusal(assertPublicEndpoint('https://meta.example.com/x', DEV, dns))).reason).toBe(
      'webhooks.address_not_allowed',
    );
    expect((await refusal(assertPublicEndpoint('https://nowhere.example.com/x', STRICT, dns))).reason).toBe(
      'webhooks.unresolvable',
    );
  });

  it("refuses a real name that resolves to loopback, through the system's resolver", async () => {
    // `localhost` is judged by its addresses (the hosts file maps it to loopback), not its name.
    const err = await refusal(assertPublicEndpoint('https://localhost:8443/x', STRICT));
    expect(err.reason).toBe('webhooks.address_not_allowed');
    expect(err.message).toMatch(/localhost resolves to .* loopback/);
    await expect(assertPublicEndpoint('http://localhost:8443/x', DEV)).resolves.toBeInstanceOf(URL);
  });
});

describe('guardedLookup', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('reached'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const get = (host: string, lookup: ReturnType<typeof guardedLookup>) =>
    new Promise<string>((resolve, reject) => {
      const req = request({ host, port, path: '/', lookup, timeout: 2_000 }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });

  it('refuses the connection when the name resolves to loopback at delivery time (DNS rebinding)', async () => {
    // The name looked public when the endpoint was created; now it answers 127.0.0.1.
    const rebinding = fakeDns({ 'hooks.example.com': ['127.0.0.1'] });
    const err = await get('hooks.example.com', guardedLookup(STRICT, rebinding)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnsafeEndpointError);
    expect((err as UnsafeEndpointError).message).toMatch(/loopback/);
  });

  it("refuses a real name resolving to loopback through the system's resolver, and reaches it when allowed", async () => {
    await expect(get('localhost', guardedLookup(STRICT))).rejects.toThrow(/loopback/);
    await expect(get('localhost', guardedLookup(DEV))).resolves.toBe('reached');
  });

  it('connects through the same lookup when loopback is allowed', async () => {
    const dns = fakeDns({ 'hooks.example.com': ['127.0.0.1'] });
    await expect(get('hooks.example.com', guardedLookup(DEV, dns))).resolves.toBe('reached');
  });
});
