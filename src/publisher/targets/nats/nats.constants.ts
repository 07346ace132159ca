/** The NATS `ClientProxy` (NatsStreamClient), registered with ClientsModule. */
export const NATS_CLIENT = Symbol('telegram-receiver:nats-client');
