#!/usr/bin/env node
// Reads vitest JSON reports (`--reporter=json --outputFile.json=<file>`) and prints what they hold.
//
//   node scripts/vitest-report.mjs summary <label>=<file> ... <step>:<exit code> ...
//       one line per tier (a vitest report) or step (a command such as the typecheck), then the
//       total over all of them: "N passed, N failed"; a step that exited non-zero counts as 1 failed
//   node scripts/vitest-report.mjs failed <file>                the failed tests, one per line
//
// A tier whose report is missing or unreadable (it crashed before reporting) counts as one
// failure, so a total never hides a tier that did not run.
import { existsSync, readFileSync } from 'node:fs';

function read(file) {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function failedTests(report) {
  const failed = [];
  for (const file of report.testResults ?? []) {
    const tests = file.assertionResults ?? [];
    for (const t of tests)
      if (t.status === 'failed') failed.push(`${file.name.replace(`${process.cwd()}/`, '')} > ${t.fullName}`);
    // A file that failed to load (a syntax error, a hook that threw) has no failed test of its own.
    if (file.status === 'failed' && !tests.some((t) => t.status === 'failed'))
      failed.push(
        `${file.name.replace(`${process.cwd()}/`, '')} (${(file.message ?? 'failed to run').split('\n')[0]})`,
      );
  }
  return failed;
}

const [command, ...args] = process.argv.slice(2);
if (command === 'summary') {
  let passed = 0;
  let failed = 0;
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq < 0) {
      const [label, rc] = arg.split(':');
      if (rc !== '0') failed += 1;
      console.log(`[test]   ${label}: ${rc === '0' ? 'ok' : `FAILED (exit ${rc}, counted as 1 failed)`}`);
      continue;
    }
    const label = arg.slice(0, eq);
    const report = read(arg.slice(eq + 1));
    if (!report) {
      failed += 1;
      console.log(`[test]   ${label}: did not report (counted as 1 failed)`);
      continue;
    }
    const tierFailed = Math.max(report.numFailedTests ?? 0, failedTests(report).length);
    passed += report.numPassedTests ?? 0;
    failed += tierFailed;
    console.log(
      `[test]   ${label}: ${report.numPassedTests ?? 0} passed, ${tierFailed} failed${report.numPendingTests ? `, ${report.numPendingTests} skipped` : ''}`,
    );
    for (const name of failedTests(report)) console.log(`[test]     FAIL ${name}`);
  }
  console.log(`[test] ${passed} passed, ${failed} failed`);
} else if (command === 'failed') {
  const report = read(args[0]);
  if (!report) console.log(`(no report: ${args[0]})`);
  else for (const name of failedTests(report)) console.log(name);
} else {
  console.error('usage: vitest-report.mjs summary <label>=<file> ... | failed <file>');
  process.exit(2);
}
