import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError, type Role } from '@quorum/domain';
import type { ApiKeyRow } from '@quorum/db';
import { hashToken } from '../auth/tokens';
import type { ApiKeysRepository } from './api-keys.repository';

/** What callers may see of a key; the secret is shown once, at creation. */
export interface ApiKeyView {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface ApiKeyPrincipal {
  keyId: string;
  orgId: string;
  role: Role;
}

const KEY = /^qk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function toView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: `qk_${row.id.replace(/-/g, '')}`,
    createdBy: row.created_by,
    createdAt: iso(row.created_at)!,
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
  };
}

export class ApiKeysService {
  constructor(
    private readonly repo: ApiKeysRepository,
    private readonly now: () => Date = () => new Date(),
    /** Told of each key this service revokes, so it stops at once on this gateway. */
    private readonly onRevoked: (keyId: string) => void = () => undefined,
  ) {}

  /** Stores a new key under `id` (default: a fresh one) and answers its secret, once. */
  async create(input: {
    id?: string;
    orgId: string;
    name: string;
    role: Role;
    createdBy: string;
  }): Promise<{ key: ApiKeyView; secret: string }> {
    const id = input.id ?? randomUUID();
    const secret = `qk_${id.replace(/-/g, '')}_${randomBytes(32).toString('base64url')}`;
    const row = await this.repo.insert({
      id,
      orgId: input.orgId,
      name: input.name,
      role: input.role,
      secretHash: hashToken(secret),
      createdBy: input.createdBy,
    });
    return { key: toView(row), secret };
  }

  async list(orgId: string): Promise<ApiKeyView[]> {
    return (await this.repo.listByOrg(orgId)).map(toView);
  }

  async revoke(orgId: string, keyId: string): Promise<void> {
    if (!(await this.repo.revoke(orgId, keyId, this.now()))) {
      throw new AppError('NOT_FOUND', 'api_keys.not_found', 'No active API key with that id in this organization.');
    }
    this.onRevoked(keyId);
  }

  /** The principal for a presented key, or `undefined` if it is malformed, unknown or revoked. */
  async authenticate(presented: string): Promise<ApiKeyPrincipal | undefined> {
    const m = KEY.exec(presented);
    if (!m) return undefined;
    const hex = m[1]!;
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const row = await this.repo.findById(id);
    if (!row || row.revoked_at) return undefined;
    const expected = Buffer.from(row.secret_hash);
    const given = Buffer.from(hashToken(presented));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    await this.repo.touch(row.id, this.now());
    return { keyId: row.id, orgId: row.org_id, role: row.role as Role };
  }
}
