import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { crossSiteRefusal, isAllowedOrigin, isSecureRequest, securityHeaders } from './browser-security';

/** The parts of a request these rules read. */
function request(method: string, headers: Record<string, string>): IncomingMessage {
  return { method, headers } as unknown as IncomingMessage;
}

describe('isAllowedOrigin', () => {
  it('allows no Origin, this host (any scheme, default port written or not) and PUBLIC_URL', () => {
    expect(isAllowedOrigin(request('GET', { host: 'quorum.test:3000' }), undefined)).toBe(true);
    expect(
      isAllowedOrigin(request('GET', { host: 'quorum.test:3000', origin: 'http://quorum.test:3000' }), undefined),
    ).toBe(true);
    expect(isAllowedOrigin(request('GET', { host: 'Quorum.Test', origin: 'https://quorum.test' }), undefined)).toBe(
      true,
    );
    expect(isAllowedOrigin(request('GET', { host: 'quorum.test:443', origin: 'https://quorum.test' }), undefined)).toBe(
      true,
    );
    // Behind a proxy that rewrites Host to the upstream address.
    expect(
      isAllowedOrigin(
        request('GET', { host: '127.0.0.1:3000', origin: 'https://quorum.example.com' }),
        'https://quorum.example.com/app',
      ),
    ).toBe(true);
  });

  it('refuses another host, another port, null, garbage, and an Origin without a Host', () => {
    for (const origin of [
      'https://evil.example',
      'http://quorum.test:3001',
      'null',
      'quorum.test:3000',
      'http://quorum.test:3000.evil.example',
    ]) {
      expect(isAllowedOrigin(request('GET', { host: 'quorum.test:3000', origin }), undefined)).toBe(false);
    }
    expect(isAllowedOrigin(request('GET', { origin: 'http://quorum.test' }), undefined)).toBe(false);
    expect(
      isAllowedOrigin(
        request('GET', { host: '127.0.0.1:3000', origin: 'https://evil.example' }),
        'https://quorum.example.com',
      ),
    ).toBe(false);
  });
});

describe('crossSiteRefusal', () => {
  const host = 'quorum.test';
  it('refuses a POST from another origin, and a POST with cookies that is not JSON', () => {
    expect(
      crossSiteRefusal(
        request('POST', { host, origin: 'https://evil.example', 'content-type': 'application/json' }),
        undefined,
      ),
    ).toMatch(/another site/);
    expect(
      crossSiteRefusal(
        request('POST', { host, cookie: 'quorum_access=x', 'content-type': 'multipart/form-data; boundary=b' }),
        undefined,
      ),
    ).toMatch(/application\/json/);
    expect(
      crossSiteRefusal(request('POST', { host, cookie: 'quorum_access=x', 'content-type': 'text/plain' }), undefined),
    ).toMatch(/application\/json/);
    expect(crossSiteRefusal(request('POST', { host, cookie: 'quorum_access=x' }), undefined)).toMatch(
      /application\/json/,
    );
  });

  it('lets through what a page of this origin sends, API clients, and every GET', () => {
    expect(
      crossSiteRefusal(
        request('POST', {
          host,
          origin: 'http://quorum.test',
          cookie: 'a=b',
          'content-type': 'application/json; charset=utf-8',
        }),
        undefined,
      ),
    ).toBeUndefined();
    expect(crossSiteRefusal(request('POST', { host, 'content-type': 'application/json' }), undefined)).toBeUndefined();
    expect(
      crossSiteRefusal(request('POST', { host, origin: 'https://evil.example', authorization: 'Bearer t' }), undefined),
    ).toBeUndefined();
    expect(
      crossSiteRefusal(request('POST', { host, origin: 'https://evil.example', 'x-api-key': 'qk_x' }), undefined),
    ).toBeUndefined();
    expect(
      crossSiteRefusal(request('GET', { host, origin: 'https://evil.example', cookie: 'a=b' }), undefined),
    ).toBeUndefined();
  });
});

describe('isSecureRequest', () => {
  const https = request('GET', { 'x-forwarded-proto': 'https' });
  it('believes X-Forwarded-Proto only from a trusted proxy; SECURE_COOKIES means every request', () => {
    expect(isSecureRequest(https, { secureCookies: false, trustProxy: false })).toBe(false);
    expect(isSecureRequest(https, { secureCookies: false, trustProxy: true })).toBe(true);
    expect(
      isSecureRequest(request('GET', { 'x-forwarded-proto': 'HTTPS, http' }), {
        secureCookies: false,
        trustProxy: true,
      }),
    ).toBe(true);
    expect(
      isSecureRequest(request('GET', { 'x-forwarded-proto': 'http' }), { secureCookies: false, trustProxy: true }),
    ).toBe(false);
    expect(isSecureRequest(request('GET', {}), { secureCookies: false, trustProxy: true })).toBe(false);
    expect(isSecureRequest(request('GET', {}), { secureCookies: true, trustProxy: false })).toBe(true);
  });
});

describe('securityHeaders', () => {
  it("names this host's WebSockets and the extra sources once each; HSTS only when secure", () => {
    const headers = securityHeaders(request('GET', { host: '127.0.0.1:3000' }), {
      secure: false,
      connectSources: ['ws://127.0.0.1:3000', 'wss://sfu.example.com'],
    });
    expect(headers['content-security-policy']).toContain(
      "connect-src 'self' ws://127.0.0.1:3000 wss://127.0.0.1:3000 wss://sfu.example.com;",
    );
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['strict-transport-security']).toBeUndefined();
    expect(
      securityHeaders(request('GET', { host: 'quorum.test' }), { secure: true, connectSources: [] })[
        'strict-transport-security'
      ],
    ).toMatch(/^max-age=\d+$/);
  });

  it('leaves a Host that is not a plain host and port out of the policy', () => {
    const headers = securityHeaders(request('GET', { host: "quorum.test; script-src 'unsafe-inline'" }), {
      secure: false,
      connectSources: [],
    });
    expect(headers['content-security-policy']).toContain("connect-src 'self';");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
  });
});
