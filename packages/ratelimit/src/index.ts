export { createMemoryRateLimiter, type MemoryRateLimiterOptions } from './memory/memory-rate-limiter';
export type { RateLimiter, RateLimiterOptions, RateLimitResult } from './rate-limiter';
