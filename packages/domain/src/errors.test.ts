import { describe, expect, it } from 'vitest';
import { AppError, conflict, isAppError } from './errors';

describe('AppError', () => {
  it('carries code, reason, message and details, and is an Error', () => {
    const error = conflict('members.already_member', 'a@b.co is already a member.', { email: 'a@b.co' });
    expect(error).toBeInstanceOf(Error);
    expect(isAppError(error)).toBe(true);
    expect(isAppError(new Error('x'))).toBe(false);
    expect(error).toMatchObject({
      name: 'AppError',
      code: 'CONFLICT',
      reason: 'members.already_member',
      details: { email: 'a@b.co' },
    });
    expect(new AppError('NOT_FOUND', 'x.y', 'gone').details).toBeUndefined();
  });
});
