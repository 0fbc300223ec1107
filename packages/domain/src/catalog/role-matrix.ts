/**
 * Renders the generated part of `docs/roles.md` from {@link PERMISSIONS}, {@link ACTIONS}
 * and {@link UNGATED_ACTIONS}: one row per procedure, one column per role. Pure:
 * `scripts/docs-events.ts` writes it into the file, and a test in `test/docs` keeps them equal.
 */
import { ACTIONS, PERMISSIONS, UNGATED_ACTIONS } from '../permissions';
import { ROLES, type Role } from '../roles';

/** The generated role × procedure matrix (Markdown). */
export function renderRoleMatrix(): string {
  const header = `| procedure | ${ROLES.map((r) => `\`${r}\``).join(' | ')} |`;
  const rule = `|---|${ROLES.map(() => ':-:').join('|')}|`;
  const gated = ACTIONS.map((action) => {
    const allowed = PERMISSIONS[action] as readonly Role[];
    return `| \`${action}\` | ${ROLES.map((role) => (allowed.includes(role) ? '✓' : '·')).join(' | ')} |`;
  });
  const ungated = UNGATED_ACTIONS.map((action) => `| \`${action}\` | ${ROLES.map(() => 'n/a').join(' | ')} |`);
  const lines = [
    '<!-- Generated from PERMISSIONS, ACTIONS and UNGATED_ACTIONS (packages/domain/src/permissions.ts) by scripts/docs-events.ts; do not edit by hand. -->',
    '',
    '✓ allowed, · refused with `FORBIDDEN` (`auth.forbidden`), n/a not role-gated.',
    '',
    header,
    rule,
    ...gated,
    ...ungated,
  ];
  return `${lines.join('\n')}\n`;
}
