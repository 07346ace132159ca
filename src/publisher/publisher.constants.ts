/** Every `UpdatePublisher` in use, built-in and plug-in, in routing order. */
export const UPDATE_PUBLISHERS = Symbol('telegram-receiver:update-publishers');
/** The Nest MQTT `ClientProxy`. */
export const MQTT_CLIENT = Symbol('telegram-receiver:mqtt-client');
/** The dedup store (Redis-backed with REDIS_URL, in-memory otherwise). */
export const DEDUP_STORE = Symbol('telegram-receiver:dedup-store');
/** The embedded MQTT broker, when no broker is configured. */
export const EMBEDDED_BROKER = Symbol('telegram-receiver:embedded-mqtt-broker');
