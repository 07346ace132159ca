/** The RabbitMQ `ClientProxy` (AmqpConfirmClient), registered with ClientsModule. */
export const AMQP_CLIENT = Symbol('telegram-receiver:amqp-client');
