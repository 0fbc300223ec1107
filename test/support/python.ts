/**
 * A Python for tests that call Quorum as a non-TypeScript integrator would: a virtual
 * environment under the repository's ignored `.cache/`, made once and reused, with the
 * packages a test needs installed from PyPI by pip. When it cannot be made (no python3, no
 * venv module, PyPI out of reach) the error says which step failed and what it printed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const VENV = fileURLToPath(new URL('../../.cache/test-python', import.meta.url));
const PYTHON = `${VENV}/bin/python`;

async function step(what: string, file: string, args: string[]): Promise<void> {
  try {
    await run(file, args, { timeout: 300_000 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `Cannot prepare Python for the client tests: ${what} failed (${e.message.split('\n')[0]}).\n${e.stderr ?? ''}${e.stdout ?? ''}`,
      { cause: err },
    );
  }
}

/** The interpreter of the test environment, with `packages` (pip requirement strings) importable as `modules`. */
export async function pythonWith(packages: readonly string[], modules: readonly string[]): Promise<string> {
  const probe = ['-c', modules.map((m) => `import ${m}`).join('; ') || 'pass'];
  if (existsSync(PYTHON)) {
    const ok = await run(PYTHON, probe).then(
      () => true,
      () => false,
    );
    if (ok) return PYTHON;
  } else {
    await step(`python3 -m venv ${VENV}`, 'python3', ['-m', 'venv', VENV]);
  }
  await step(`pip install ${packages.join(' ')}`, PYTHON, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    ...packages,
  ]);
  await step(`import ${modules.join(', ')}`, PYTHON, probe);
  return PYTHON;
}
