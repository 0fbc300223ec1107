/**
 * Renders the generated part of `docs/roles.md` from {@link PERMISSIONS}, {@link ACTIONS},
 * {@link UNGATED_ACTIONS} and {@link OPERATOR_ACTIONS}: one row per procedure, one column per
 * role. Pure: `scripts/docs-events.ts` writes it into the file, and a test in `test/docs`
 * keeps them equal.
 */
import { ACTIONS, OPERATOR_ACTIONS, PERMISSIONS, UNGATED_ACTIONS } from '../permissions';
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
  const operator = OPERATOR_ACTIONS.map((action) => `| \`${action}\` | ${ROLES.map(() => 'op').join(' | ')} |`);
  const lines = [
    '<!-- Generated from PERMISSIONS, ACTIONS, UNGATED_ACTIONS and OPERATOR_ACTIONS (packages/domain/src/permissions.ts) by scripts/docs-events.ts; do not edit by hand. -->',
    '',
    '✓ allowed, · refused with `FORBIDDEN` (`auth.forbidden`), n/a not role-gated, op refused to every',
    "role with `FORBIDDEN` (`auth.not_operator`): only Quorum's operators may call it.",
    '',
    header,
    rule,
    ...gated,
    ...ungated,
    ...operator,
  ];
  return `${lines.join('\n')}\n`;
}
