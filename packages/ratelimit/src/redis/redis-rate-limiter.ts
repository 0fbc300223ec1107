/**
 * Redis `RateLimiter`: the sliding-window log of `rate-limiter.ts` kept in one Redis list per
 * key (`ratelimit:<name>:<key>`, entries `<ms>:<cost>`, oldest first) and updated by one Lua
 * script, so prune, count, decide and record are a single atomic step however many gateways
 * call at once. The script reads the clock with `TIME`, so gateways with skewed clocks agree,
 * and sets `PEXPIRE` to the window on every recorded call, so an idle key disappears once its
 * newest entry is `windowMs` old. A refused call writes nothing (its TTL is not extended).
 */
import { Redis } from 'ioredis';
import {
  checkCost,
  validateRateLimiterOptions,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimitResult,
} from '../rate-limiter';

// KEYS[1] the log; ARGV limit, windowMs, cost. Returns { allowed 0|1, remaining, retryAfterMs }.
// Redis 5+ replicates script effects, so a write after TIME is allowed.
const CONSUME_LUA = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local raw = redis.call('LRANGE', key, 0, -1)
local ats, costs = {}, {}
local expired = 0
local used = 0
for i = 1, #raw do
  local sep = string.find(raw[i], ':', 1, true)
  local at = tonumber(string.sub(raw[i], 1, sep - 1))
  local c = tonumber(string.sub(raw[i], sep + 1))
  if at + window <= now and expired == i - 1 then
    expired = i
  else
    ats[#ats + 1] = at
    costs[#costs + 1] = c
    used = used + c
  end
end
if expired > 0 then
  redis.call('LTRIM', key, expired, -1)
end

if used + cost <= limit then
  redis.call('RPUSH', key, string.format('%.0f', now) .. ':' .. cost)
  redis.call('PEXPIRE', key, window)
  return { 1, limit - used - cost, 0 }
end

local freed = 0
local retry = window
for i = 1, #ats do
  freed = freed + costs[i]
  if used - freed + cost <= limit then
    retry = ats[i] + window - now
    break
  end
end
return { 0, limit - used, retry }
`;

const COMMAND = 'quorumRateLimitConsume';

type WithConsume = Redis & {
  [COMMAND](key: string, limit: number, windowMs: number, cost: number): Promise<[number, number, number]>;
};

export type RedisRateLimiterOptions = RateLimiterOptions &
  (
    | {
        /** A client the caller owns; `close()` leaves it open. */
        redis: Redis;
      }
    | {
        /** `redis://` URL; the limiter opens its own client and closes it in `close()`. */
        url: string;
      }
  );

/** A sliding-window rate limiter shared by every process using the same Redis. */
export class RedisRateLimiter implements RateLimiter {
  private closed = false;

  private constructor(
    private readonly redis: WithConsume,
    private readonly options: RateLimiterOptions,
    private readonly ownsClient: boolean,
  ) {}

  /**
   * Registers the script on the client (EVALSHA, falling back to EVAL after a Redis restart)
   * and loads it once, so a missing or unreachable Redis fails here rather than on first use.
   */
  static async create(options: RedisRateLimiterOptions): Promise<RedisRateLimiter> {
    const { name, limit, windowMs } = options;
    validateRateLimiterOptions({ name, limit, windowMs });
    const ownsClient = !('redis' in options);
    const redis =
      'redis' in options ? options.redis : new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    try {
      if (ownsClient) await redis.connect();
      // Defining it again on a shared client (several limiters) replaces it with the same script.
      redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: CONSUME_LUA });
      await redis.script('LOAD', CONSUME_LUA);
    } catch (err) {
      if (ownsClient) redis.disconnect();
      throw new Error(`rate limiter ${name}: Redis is not usable (${(err as Error).message})`, { cause: err });
    }
    return new RedisRateLimiter(redis as WithConsume, { name, limit, windowMs }, ownsClient);
  }

  private key(key: string): string {
    return `ratelimit:${this.options.name}:${key}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`rate limiter ${this.options.name} is closed`);
  }

  async consume(key: string, cost = 1): Promise<RateLimitResult> {
    this.assertOpen();
    checkCost(this.options, cost);
    const { limit, windowMs } = this.options;
    const [allowed, remaining, retryAfterMs] = await this.redis[COMMAND](this.key(key), limit, windowMs, cost);
    return { allowed: allowed === 1, remaining, retryAfterMs, limit };
  }

  async reset(key: string): Promise<void> {
    this.assertOpen();
    await this.redis.del(this.key(key));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.redis.quit();
  }
}
