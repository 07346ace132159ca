/**
 * A worker for telegram-receiver: consumes updates from the Redis stream, MQTT and/or Kafka and
 * answers every text message through the Bot API (sendMessage). Written with plain ioredis, mqtt
 * and kafkajs so a team can copy it into any Node project.
 *
 * Nothing is lost when a worker crashes:
 * - Redis stream (REDIS_QUEUE_MODE=stream): entries are read through a consumer group and
 *   acknowledged (XACK) only once answered; an entry left pending by a crashed or failing worker is
 *   claimed again (XAUTOCLAIM) after `claimIdleMs` by whichever worker of the group runs.
 * - MQTT: a persistent session (`clean: false`, fixed client id) with QoS 1; the PUBACK is sent
 *   only once the update was answered, so the broker redelivers anything unanswered.
 * - Kafka: a consumer group (`telegram-workers`); a partition's records are handled one after the
 *   other, and an offset is committed only once its record was answered, so a crashed worker's
 *   partitions go to another member from the last answered record on. The receiver keys records by
 *   chat, so each chat is answered in order while chats on different partitions run in parallel.
 * Delivery is at least once, so answers are remembered per (bot, update_id) to skip repeats.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { botIdOf, decodeUpdate, PermanentBotApiError, sendMessage, type ReceivedUpdate } from './telegram.js';

export interface WorkerOptions {
  /** Tokens of the bots to answer as; an update is answered by the bot that received it. */
  tokens: readonly string[];
  /** Bot API base URL (a self-hosted Bot API server, or a fake one in tests). */
  telegramApiUrl?: string;
  /** Consume the receiver's Redis stream (REDIS_QUEUE_MODE=stream). */
  redis?: {
    url: string;
    /** REDIS_QUEUE_NAME of the receiver. */
    stream?: string;
    /** Workers sharing a group share the work; each entry goes to one of them. */
    group?: string;
    /** Unique per running worker. */
    consumer?: string;
    /** An entry pending this long (its worker crashed, or answering failed) is taken over. */
    claimIdleMs?: number;
    /** How long one XREADGROUP waits for new entries. */
    blockMs?: number;
  };
  /** Consume the receiver's MQTT topics (MQTT_TOPIC `<prefix>/{bot}/{type}`). */
  mqtt?: {
    url: string;
    topicPrefix?: string;
    /** Fixed per worker: the broker keeps the session, and what it missed, under this id. */
    clientId?: string;
  };
  /** Consume the receiver's Kafka topics (KAFKA_TOPIC, default `telegram.{bot}`) in a consumer group. */
  kafka?: {
    brokers: string[];
    /** Topic names, or patterns: the default /^telegram\.\d+$/ matches every bot's `telegram.{bot}`. */
    topics?: Array<string | RegExp>;
    /** Workers sharing a group share the partitions; each record goes to one of them. */
    groupId?: string;
    clientId?: string;
  };
  /** The answer to a text; default: echo it. */
  reply?: (text: string, received: ReceivedUpdate) => string;
  log?: (message: string) => void;
}

export interface Worker {
  /** Stops reading, lets the update being answered finish, and disconnects. */
  close(): Promise<void>;
}

const ANSWERED_MEMORY = 10_000;

export async function start(options: WorkerOptions): Promise<Worker> {
  const apiUrl = options.telegramApiUrl ?? 'https://api.telegram.org';
  const tokens = new Map(options.tokens.map((token) => [botIdOf(token), token]));
  const reply = options.reply ?? ((text: string) => `You said: ${text}`);
  const log = options.log ?? ((message: string) => console.log(message));
  const answered = new Set<string>();
  let stopping = false;

  /** Answers one update; throws when it should be tried again later (Bot API 429/5xx, network). */
  async function answer(received: ReceivedUpdate): Promise<void> {
    const message = received.update.message;
    if (received.type !== 'message' || typeof message?.text !== 'string') return;
    const key = `${received.bot}:${received.update.update_id}`;
    if (answered.has(key)) return;
    const token = received.bot === undefined ? undefined : tokens.get(received.bot);
    if (!token) {
      log(`No token for bot ${received.bot}: update ${received.update.update_id} skipped`);
      return;
    }
    try {
      await sendMessage(apiUrl, token, message.chat.id, reply(message.text, received));
    } catch (error) {
      if (!(error instanceof PermanentBotApiError)) throw error;
      log(`Update ${key} not answered: ${error.message}`);
    }
    answered.add(key);
    if (answered.size > ANSWERED_MEMORY) answered.delete(answered.values().next().value as string);
  }

  const closers: Array<() => Promise<void>> = [];
  try {
    if (options.redis) closers.push(await consumeStream(options.redis));
    if (options.mqtt) closers.push(await consumeMqtt(options.mqtt));
    if (options.kafka) closers.push(await consumeKafka(options.kafka));
  } catch (error) {
    stopping = true;
    await Promise.all(closers.map((close) => close()));
    throw error;
  }

  async function consumeStream(config: NonNullable<WorkerOptions['redis']>): Promise<() => Promise<void>> {
    const stream = config.stream ?? 'telegram_bot';
    const group = config.group ?? 'telegram-workers';
    const consumer = config.consumer ?? `${hostname()}-${process.pid}`;
    const claimIdleMs = config.claimIdleMs ?? 60_000;
    const blockMs = config.blockMs ?? 2000;
    const commands = new Redis(config.url, { maxRetriesPerRequest: null });
    // XREADGROUP … BLOCK holds its connection: give it its own.
    const reader = commands.duplicate();
    try {
      // From the start of the stream ("0"): what was queued before the first worker ran is answered too.
      await commands.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) {
        commands.disconnect();
        reader.disconnect();
        throw error;
      }
    }

    async function handle(id: string, fields: string[] | null): Promise<void> {
      const field = (name: string): string | undefined => {
        const at = fields?.indexOf(name) ?? -1;
        return at >= 0 && at % 2 === 0 ? fields?.[at + 1] : undefined;
      };
      const body = field('update');
      try {
        // An entry without a body (trimmed from the stream) cannot be answered: acknowledge it.
        if (body !== undefined) await answer(decodeUpdate(body, Number(field('bot'))));
        await commands.xack(stream, group, id);
      } catch (error) {
        // Left pending: taken over again after claimIdleMs.
        log(`Stream entry ${id} not answered yet: ${(error as Error).message}`);
      }
    }

    let nextClaim = 0;
    const loop = (async () => {
      while (!stopping) {
        try {
          if (Date.now() >= nextClaim) {
            nextClaim = Date.now() + Math.min(claimIdleMs, 10_000);
            const [, claimed] = (await commands.xautoclaim(
              stream,
              group,
              consumer,
              claimIdleMs,
              '0-0',
              'COUNT',
              32,
            )) as [string, Array<[string, string[] | null]>];
            for (const [id, fields] of claimed) await handle(id, fields);
          }
          const batch = await reader.xreadgroup(
            'GROUP',
            group,
            consumer,
            'COUNT',
            32,
            'BLOCK',
            Math.min(blockMs, claimIdleMs),
            'STREAMS',
            stream,
            '>',
          );
          for (const [, entries] of (batch ?? []) as Array<[string, Array<[string, string[] | null]>]>) {
            for (const [id, fields] of entries) await handle(id, fields);
          }
        } catch (error) {
          if (stopping) break;
          log(`Reading ${stream}: ${(error as Error).message}; retrying`);
          await sleep(1000);
        }
      }
    })();

    return async () => {
      // Interrupts a waiting XREADGROUP; an entry it had already taken stays pending and is claimed later.
      reader.disconnect();
      await loop;
      await commands.quit();
    };
  }

  async function consumeMqtt(config: NonNullable<WorkerOptions['mqtt']>): Promise<() => Promise<void>> {
    const prefix = config.topicPrefix ?? 'telegram';
    const client: MqttClient = mqtt.connect(config.url, {
      clientId: config.clientId ?? `telegram-worker-${hostname()}`,
      clean: false,
      reconnectPeriod: 1000,
      manualConnect: true,
    });
    let current: Promise<void> = Promise.resolve();
    // mqtt.js sends the PUBACK of a QoS 1 message when this callback is called: only after answering.
    client.handleMessage = (packet: IPublishPacket, done: (error?: Error) => void): void => {
      current = (async () => {
        let received: ReceivedUpdate;
        try {
          received = decodeUpdate(Buffer.from(packet.payload as Buffer), Number(packet.topic.split('/')[1]));
        } catch (error) {
          log(`MQTT message on ${packet.topic} is not an update: ${(error as Error).message}`);
          done();
          return;
        }
        for (let attempt = 1; !stopping; attempt++) {
          try {
            await answer(received);
            done();
            return;
          } catch (error) {
            const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
            log(`MQTT update ${received.update.update_id} not answered yet: ${(error as Error).message}`);
            await sleep(retryAfter ? retryAfter * 1000 : Math.min(1000 * attempt, 10_000));
          }
        }
        // Stopping without answering: no PUBACK, so the broker delivers it again to this session.
      })();
    };
    client.connect();
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    // mqtt.js reconnects by itself; an 'error' without a listener would end the process.
    client.on('error', (error) => log(`MQTT: ${error.message}`));
    await client.subscribeAsync(`${prefix}/+/message`, { qos: 1 });
    return async () => {
      await current;
      await client.endAsync(true);
    };
  }

  async function consumeKafka(config: NonNullable<WorkerOptions['kafka']>): Promise<() => Promise<void>> {
    const kafka = new Kafka({
      clientId: config.clientId ?? `telegram-worker-${hostname()}`,
      brokers: config.brokers,
      logLevel: logLevel.WARN,
    });
    const consumer: Consumer = kafka.consumer({
      groupId: config.groupId ?? 'telegram-workers',
      // A fetch waits at most a second for new records, so close() does not wait long for it.
      maxWaitTimeInMs: 1000,
    });
    await consumer.connect();
    try {
      // From the beginning when the group is new: what was published before the first worker ran is answered too.
      await consumer.subscribe({ topics: config.topics ?? [/^telegram\.\d+$/], fromBeginning: true });
      await consumer.run({
        // Returning commits the record's offset: only once it was answered (or cannot be).
        eachMessage: async ({ topic, message }) => {
          let received: ReceivedUpdate;
          try {
            received = decodeUpdate(
              message.value ?? Buffer.alloc(0),
              Number(message.headers?.bot?.toString()),
            );
          } catch (error) {
            log(`Kafka record on ${topic} is not an update: ${(error as Error).message}`);
            return;
          }
          for (let attempt = 1; !stopping; attempt++) {
            try {
              await answer(received);
              return;
            } catch (error) {
              const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
              log(`Kafka update ${received.update.update_id} not answered yet: ${(error as Error).message}`);
              await sleep(retryAfter ? retryAfter * 1000 : Math.min(1000 * attempt, 10_000));
            }
          }
          // Stopping without answering: the offset stays, and the group hands the record on.
          throw new Error(`worker stopping: update ${received.update.update_id} left for the group`);
        },
      });
    } catch (error) {
      await consumer.disconnect();
      throw error;
    }
    return () => consumer.disconnect();
  }

  return {
    async close(): Promise<void> {
      stopping = true;
      await Promise.all(closers.map((close) => close()));
    },
  };
}
