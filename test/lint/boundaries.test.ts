/**
 * The layering rules of eslint.config.js fire: each case lints a crafted snippet as if it lived
 * at a path in the wrong layer, with the workspace's own config, and expects the error. A rule
 * that stopped matching (a renamed option, a plugin that no longer resolves an import) fails
 * here instead of letting crossings through silently.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

let eslint: ESLint;

async function lint(file: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).map(({ ruleId, message }) => ({ ruleId, message }));
}

const restricted = (text: string) =>
  expect.objectContaining({
    ruleId: '@typescript-eslint/no-restricted-imports',
    message: expect.stringContaining(text),
  });
const relativePackage = expect.objectContaining({ ruleId: 'import-x/no-relative-packages' });
const cycle = expect.objectContaining({ ruleId: 'import-x/no-cycle' });

// The first lint loads the parser, the plugins and the resolver: slow on a loaded machine.
describe('workspace boundaries (eslint.config.js)', { timeout: 60_000 }, () => {
  beforeAll(() => {
    eslint = new ESLint({ cwd: root });
  });

  describe('a package never depends on a service', () => {
    it.each(['gateway', 'projector', 'quorum', 'relay', 'sfu'])('by name: @quorum/%s', async (service) => {
      const messages = await lint('packages/api/src/probe.ts', `export * as probe from '@quorum/${service}/x';\n`);
      expect(messages).toContainEqual(restricted('never depends on a service'));
    });

    it('not even for a type', async () => {
      const messages = await lint(
        'packages/api/src/probe.ts',
        "import type { AppRouter } from '@quorum/gateway/router';\nexport type Probe = AppRouter;\n",
      );
      expect(messages).toContainEqual(restricted('never depends on a service'));
    });

    it('nor by a relative path into services/', async () => {
      const messages = await lint(
        'packages/api/src/probe.ts',
        "export { appRouter } from '../../../services/gateway/src/router';\n",
      );
      expect(messages).toContainEqual(relativePackage);
    });
  });

  describe('a workspace reaches another only through its exports map, never its src/', () => {
    it("a service importing another service's src/ by name", async () => {
      const messages = await lint(
        'services/gateway/src/probe.ts',
        "export { rebuild } from '@quorum/projector/src/rebuild';\n",
      );
      expect(messages).toContainEqual(restricted('never its src/'));
    });

    it("a service importing another service's internals by a relative path", async () => {
      expect(existsSync(join(root, 'services/projector/src/rebuild.ts'))).toBe(true);
      const messages = await lint(
        'services/gateway/src/probe.ts',
        "export { rebuild } from '../../projector/src/rebuild';\n",
      );
      expect(messages).toContainEqual(relativePackage);
    });

    it("a package importing another package's src/", async () => {
      const messages = await lint('packages/eventstore/src/probe.ts', "export * as db from '@quorum/db/src/index';\n");
      expect(messages).toContainEqual(restricted('never its src/'));
    });

    it('a service importing a published entry passes', async () => {
      const messages = await lint(
        'services/quorum/src/probe.ts',
        "export { createGateway } from '@quorum/gateway/gateway';\n",
      );
      expect(messages).toEqual([]);
    });
  });

  describe('packages/domain imports no I/O', () => {
    it.each([
      '@trpc/server',
      'kysely',
      'pg',
      'nats',
      'ioredis',
      '@eventstore/db-client',
      'mediasoup',
      'node:crypto',
      'fs',
    ])('%s fails', async (module) => {
      const messages = await lint('packages/domain/src/probe.ts', `export * as probe from '${module}';\n`);
      expect(messages).toContainEqual(restricted('packages/domain imports zod and its own files only'));
    });

    it('zod and its own files pass', async () => {
      const messages = await lint(
        'packages/domain/src/probe.ts',
        "import { z } from 'zod';\nimport { IdSchema } from './schemas';\nexport const Probe = z.object({ id: IdSchema });\n",
      );
      expect(messages).toEqual([]);
    });
  });

  describe('no import cycles', () => {
    it('in web/: a page module that imports the app that imports it', async () => {
      // App.tsx imports ./PageTitle; PageTitle importing App closes the loop.
      const messages = await lint('web/src/PageTitle.tsx', "import { App } from './App';\nexport const probe = App;\n");
      expect(messages).toContainEqual(cycle);
    });

    it('across packages: @quorum/domain importing @quorum/api, which imports @quorum/domain', async () => {
      const messages = await lint('packages/domain/src/index.ts', "export * as api from '@quorum/api/schemas';\n");
      expect(messages).toContainEqual(cycle);
    });
  });

  it('the web app takes types from a service, never run-time code', async () => {
    const value = await lint('web/src/probe.ts', "export { appRouter } from '@quorum/gateway/router';\n");
    expect(value).toContainEqual(restricted('never run-time code'));
    const type = await lint(
      'web/src/probe.ts',
      "import type { AppRouter } from '@quorum/gateway/router';\nexport type Probe = AppRouter;\n",
    );
    expect(type).toEqual([]);
  });

  it('a gateway handler does not call another handler', async () => {
    const crossSlice = await lint(
      'services/gateway/src/seats/seats.router.ts',
      "export { createOrganization } from '../orgs/org.handler';\n",
    );
    expect(crossSlice).toContainEqual(restricted("another slice's handler"));
    const sameFolder = await lint(
      'services/gateway/src/meetings/sfu.handler.ts',
      "export { joinMeeting } from './meetings.handler';\n",
    );
    expect(sameFolder).toContainEqual(restricted('A handler does not call another handler'));
  });
});
