/**
 * A limit on Stripe calls per second. Every billing instance draws from one token bucket in
 * Redis (refilled continuously, at most one second of calls banked), so adding instances never
 * adds calls; without Redis (the all-in-one default) the bucket lives in the process.
 */
import type { Redis } from 'ioredis';

export interface CallRateLimit {
  /** Resolves when one more call may be made. */
  take(): Promise<void>;
}

/**
 * Takes a token if one is there; otherwise answers how many ms until the next one. Time is the
 * server's (`TIME`), so instances with skewed clocks share one bucket fairly.
 */
const TAKE = `
local rate = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or rate
local at = tonumber(state[2]) or now
tokens = math.min(rate, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 10000)
return wait
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bucket every instance shares, under `key` in Redis. */
export function redisCallRateLimit(
  redis: Redis,
  perSecond: number,
  key = 'quorum:billing:stripe-calls',
): CallRateLimit {
  return {
    async take() {
      for (;;) {
        const wait = Number(await redis.eval(TAKE, 1, key, perSecond));
        if (wait === 0) return;
        await sleep(wait);
      }
    },
  };
}

/** A bucket of this process only. */
export function localCallRateLimit(perSecond: number, now: () => number = () => performance.now()): CallRateLimit {
  let tokens = perSecond;
  let at = now();
  let queue: Promise<void> = Promise.resolve();
  const takeOne = async () => {
    for (;;) {
      const t = now();
      tokens = Math.min(perSecond, tokens + ((t - at) * perSecond) / 1000);
      at = t;
      if (tokens >= 1) {
        tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - tokens) * 1000) / perSecond));
    }
  };
  return {
    take() {
      // One waiter at a time, so calls leave in the order they asked.
      const turn = queue.then(takeOne);
      queue = turn;
      return turn;
    },
  };
}
