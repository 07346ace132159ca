/** The Nest MQTT `ClientProxy`. */
export const MQTT_CLIENT = Symbol('telegram-receiver:mqtt-client');
/** The embedded MQTT broker, when no broker is configured. */
export const EMBEDDED_BROKER = Symbol('telegram-receiver:embedded-mqtt-broker');
