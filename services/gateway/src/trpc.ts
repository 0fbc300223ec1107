/**
 * tRPC set-up: context, the error mapping (AppError → tRPC code, once), and the procedure
 * builders. Procedures are only the delivery layer: `.input(schema)` plus a handler call.
 */
import { AppError, OPERATOR_ACTIONS, type AppErrorCode, type OperatorAction, type Role } from '@quorum/domain';
import { WrongExpectedRevisionError } from '@quorum/eventstore';
import { initTRPC, TRPCError } from '@trpc/server';
import type { Logger } from 'pino';
import { z, ZodError } from 'zod';
import type { GatewayDeps } from './deps';
import { notOperator } from './operators/operator-access';

export type Principal =
  /** `loginId`: the login (refresh token family) the access token belongs to; `expiresAt`: its expiry, in seconds. */
  | { kind: 'user'; userId: string; email: string; loginId: string; expiresAt: number }
  | { kind: 'apiKey'; keyId: string; orgId: string; role: Role };

/** Another Quorum service (the SFU) calling with a service token. */
export interface ServicePrincipal {
  /** Who calls, e.g. `sfu:node-1`. */
  subject: string;
}

export interface CookieOptions {
  maxAgeSeconds: number;
  path?: string;
  sameSite?: 'Lax' | 'Strict';
}

export interface Context {
  deps: GatewayDeps;
  principal: Principal | null;
  /** Set when the caller presented a valid service token (`x-quorum-service-token`). */
  service: ServicePrincipal | null;
  /** Where the request came to (the Host header, and whether over TLS), for URLs in answers. */
  origin: { host: string | undefined; secure: boolean };
  idempotencyKey: string | undefined;
  requestId: string;
  /** The socket's peer address (IPv4-mapped IPv6 unwrapped); 'unknown' once the socket is gone. */
  clientIp: string;
  traceparent: string | undefined;
  cookies: Readonly<Record<string, string>>;
  /** Sets a cookie on the HTTP response; a no-op over WebSocket. */
  setCookie(name: string, value: string, options: CookieOptions): void;
  log: Logger;
}

/** The context of a procedure behind `authedProcedure`: a user or an API key is known. */
export type AuthedContext = Context & { principal: Principal };
/** The context of a procedure behind `userProcedure`: a signed-in user (not an API key). */
export type UserContext = Context & { principal: Extract<Principal, { kind: 'user' }> };

const CODE_MAP: Record<AppErrorCode, TRPCError['code']> = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
};

export interface FieldError {
  path: string;
  message: string;
}

/** Each failed field of a zod error, as the error formatter reports it (`data.fieldErrors`). */
export function fieldErrorsOf(error: ZodError): FieldError[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(input)', message: i.message }));
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const fieldErrors = cause instanceof ZodError ? fieldErrorsOf(cause) : undefined;
    const reason = cause instanceof AppError ? cause.reason : undefined;
    return {
      ...shape,
      message: fieldErrors
        ? `Invalid input: ${fieldErrors.map((f) => `${f.path}: ${f.message}`).join('; ')}`
        : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        ...(fieldErrors ? { fieldErrors } : {}),
        ...(reason ? { reason } : {}),
      },
    };
  },
});

/**
 * The tRPC error a domain or adapter error stands for, or undefined for any other: one mapping
 * for procedures and for the plain HTTP routes (the usage export).
 */
export function mappedError(cause: unknown): TRPCError | undefined {
  if (cause instanceof AppError) return new TRPCError({ code: CODE_MAP[cause.code], message: cause.message, cause });
  if (cause instanceof WrongExpectedRevisionError)
    return new TRPCError({ code: 'CONFLICT', message: 'Another change happened at the same time; try again.', cause });
  return undefined;
}

/** Maps domain and adapter errors to tRPC errors; anything unexpected is logged and hidden. */
const errorMapping = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (result.ok) return result;
  const err = result.error;
  const cause = err.cause;
  const mapped = mappedError(cause);
  if (mapped) throw mapped;
  if (err.code === 'INTERNAL_SERVER_ERROR') {
    ctx.log.error({ err: cause ?? err, path }, 'procedure failed');
    throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `Internal error (request ${ctx.requestId}).` });
  }
  return result;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(errorMapping);

/**
 * Every call checks that its credential still holds: a WebSocket's principal was read at
 * connect, and an access token outlives its login unless checked (see `credential-guard.ts`).
 */
export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.principal)
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Log in, or send a Bearer access token or an x-api-key.' });
  ctx.deps.credentials.assertValid(ctx.principal);
  return next({ ctx: { ...ctx, principal: ctx.principal } });
});

export const userProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.principal.kind !== 'user')
    throw new TRPCError({ code: 'FORBIDDEN', message: 'This needs a user session, not an API key.' });
  return next({ ctx: { ...ctx, principal: ctx.principal } });
});

function operatorActionOf(path: string): OperatorAction {
  const action = OPERATOR_ACTIONS.find((a) => a === path);
  if (!action) throw new Error(`${path} is served as an operator procedure but is not in OPERATOR_ACTIONS`);
  return action;
}

/**
 * Procedures for Quorum's operators only (`OPERATOR_ACTIONS`), across every organization. The
 * caller must be an operator at the time of the call (`OperatorAccess`, a query per call, so a
 * revocation holds on the next call on any transport); anyone else, API keys included, gets
 * FORBIDDEN (`auth.not_operator`) before the input is read, so a refusal tells nothing.
 */
export const operatorProcedure = authedProcedure.use(async ({ ctx, next, path }) => {
  const action = operatorActionOf(path);
  const { principal } = ctx;
  if (principal.kind !== 'user') throw notOperator(action);
  await ctx.deps.operators.assertOperator(principal, action);
  return next({ ctx: { ...ctx, principal } });
});

/** Procedures only other Quorum services may call (service token), never users or API keys. */
export const serviceProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.service)
    throw new TRPCError({
      code: 'UNAUTHORIZED',
      message: 'This procedure needs a service token (x-quorum-service-token).',
    });
  return next({ ctx: { ...ctx, service: ctx.service } });
});

/** Positions are PostgreSQL bigints: a larger one would fail in the query, not as bad input. */
const MAX_POSITION = 2n ** 63n - 1n;

/** A decimal event position, 0 to 2^63-1. */
export function positionSchema(message = 'must be a decimal position') {
  const digits = /^\d{1,19}$/;
  return z
    .string()
    .regex(digits, message)
    .refine((v) => !digits.test(v) || BigInt(v) <= MAX_POSITION, `must be at most ${MAX_POSITION} (2^63-1)`);
}

/** A decimal position from a previous mutation; the query waits for its projection. */
export const MinPositionSchema = positionSchema('minPosition must be a decimal position').optional();

export const createCallerFactory = t.createCallerFactory;
