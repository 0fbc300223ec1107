import { describe, expect, it } from 'vitest';
import { uuidV5 } from './ids';

describe('uuidV5', () => {
  it("gives RFC 9562's example id for www.example.com in the DNS namespace", () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('is stable for the same name and differs across names and namespaces', () => {
    const ns = '6f1c7a52-93d5-4c43-9d2e-2f0b8e1a4c11';
    expect(uuidV5(ns, 'a')).toBe(uuidV5(ns, 'a'));
    expect(uuidV5(ns, 'a')).not.toBe(uuidV5(ns, 'b'));
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'a')).not.toBe(uuidV5(ns, 'a'));
  });

  it('refuses a namespace that is not a uuid', () => {
    expect(() => uuidV5('not-a-uuid', 'a')).toThrow(/namespace must be a uuid/);
  });
});
