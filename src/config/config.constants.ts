/** Injection token of the validated `ReceiverConfig` (settings and resolved bots). */
export const RECEIVER_CONFIG = Symbol('telegram-receiver:config');
