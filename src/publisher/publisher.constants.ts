/** Every `UpdatePublisher` in use, built-in and plug-in, in routing order. */
export const UPDATE_PUBLISHERS = Symbol('telegram-receiver:update-publishers');
/** The dedup store (Redis-backed with REDIS_URL, in-memory otherwise). */
export const DEDUP_STORE = Symbol('telegram-receiver:dedup-store');
