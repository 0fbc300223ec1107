import { describe, expect, it } from 'vitest';
import { BrowserEnvShape, EnvError, parseEnv, z } from './index';

const BrowserEnvSchema = z.object(BrowserEnvShape);

describe('BrowserEnvShape', () => {
  it('defaults to trusting no proxy and no further connect sources', () => {
    expect(parseEnv(BrowserEnvSchema, {})).toEqual({ TRUST_PROXY: false, CSP_CONNECT_SRC: [] });
  });

  it('reads TRUST_PROXY and a space-separated list of origins', () => {
    expect(
      parseEnv(BrowserEnvSchema, {
        TRUST_PROXY: 'true',
        CSP_CONNECT_SRC: ' wss://sfu1.example.com  wss://*.sfu.example.com:8443 ',
      }),
    ).toEqual({
      TRUST_PROXY: true,
      CSP_CONNECT_SRC: ['wss://sfu1.example.com', 'wss://*.sfu.example.com:8443'],
    });
  });

  it('refuses a source that is not an origin, so nothing can be added to the policy', () => {
    for (const source of [
      "wss://sfu.example.com; script-src 'unsafe-inline'",
      'wss://sfu.example.com/sfu',
      "'unsafe-eval'",
      '*',
      'javascript:alert(1)',
    ]) {
      expect(() => parseEnv(BrowserEnvSchema, { CSP_CONNECT_SRC: source })).toThrow(EnvError);
    }
    expect(() => parseEnv(BrowserEnvSchema, { TRUST_PROXY: 'yes' })).toThrow(EnvError);
  });
});
