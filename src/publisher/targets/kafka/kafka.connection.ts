import { Logger } from '@nestjs/common';
import {
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type LogEntry,
  type Message,
  type Producer,
  type SASLOptions,
  type TopicMessages,
} from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { errorMessage } from '../../../common/error-message.js';
import { BackgroundReconnect } from '../../background-reconnect.js';
import type { PublisherHealth } from '../../publisher.interface.js';

export interface KafkaConnectionOptions {
  /** `host:port` of the bootstrap brokers: all that logs and `/status` show of the cluster. */
  brokers: readonly string[];
  clientId: string;
  /** TLS (`true`: the system's CAs), or none. */
  ssl?: ConnectionOptions | boolean;
  sasl?: SASLOptions;
  /** PUBLISH_TIMEOUT_MS: how long the brokers may take to acknowledge a produce request. */
  publishTimeoutMs: number;
}

/** One update's record, waiting for the produce request of its event-loop turn. */
interface Pending {
  readonly topic: string;
  readonly message: Message;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** Protocol errors about one topic: the topic is set aside and checked again, the cluster stays in use. */
const TOPIC_ERRORS: Readonly<Record<string, (topic: string) => string>> = {
  UNKNOWN_TOPIC_OR_PARTITION: (topic) =>
    `Kafka topic ${topic} does not exist and the cluster does not create topics on demand (auto.create.topics.enable=false): create it, or point KAFKA_TOPIC (or the bot's kafka_topic) at one that exists`,
  TOPIC_AUTHORIZATION_FAILED: (topic) =>
    `Kafka topic ${topic}: this client may not write to it (TOPIC_AUTHORIZATION_FAILED): grant its user Describe and Write on the topic`,
  INVALID_TOPIC_EXCEPTION: (topic) => `Kafka refuses ${topic} as a topic name (INVALID_TOPIC_EXCEPTION)`,
};

/** Protocol errors about the records themselves: that produce request fails, the cluster stays in use. */
const RECORD_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'POLICY_VIOLATION',
]);

/** Topics remembered as present: bots × kinds at most; past this many the memory starts over. */
const MAX_KNOWN_TOPICS = 10_000;

/** How often a topic found missing is looked for again. */
const TOPIC_RECHECK_MS = 2000;

/**
 * The Kafka producer (KafkaJS), with what the service needs around it:
 * - **acks=all**: a publish resolves once every in-sync replica has the record (the brokers'
 *   `min.insync.replicas` decides how many that must be);
 * - **one produce request per event-loop turn**: the updates that arrive together go out together
 *   (KafkaJS sends one request per `send()` otherwise), each still confirmed or failed;
 * - **topics checked before use**: a topic is asked for as a produce would ask (so a cluster that
 *   creates topics on demand creates it) before its first record, so a missing topic fails its own
 *   updates with a message naming it, not a whole request; it is looked for again in the background;
 * - **no offline buffering**: while the cluster is unreachable a publish fails at once, `health()`
 *   says why, and a probe (a metadata request) retries every second until the cluster answers.
 */
export class KafkaConnection {
  private readonly log = new Logger('KafkaConnection');
  private readonly where: string;
  private readonly producer: Producer;
  /** Probes the cluster while it is unreachable: a metadata request is a real round trip. */
  private readonly admin: Admin;
  private readonly retry = new BackgroundReconnect(() => this.connect());
  private readonly topicRetry = new BackgroundReconnect(() => this.recheckMissingTopics(), TOPIC_RECHECK_MS);
  private reachable = false;
  private lastError?: string;
  private closed = false;
  private readonly readyTopics = new Set<string>();
  /** Topic → why it cannot be written to. */
  private readonly missingTopics = new Map<string, string>();
  private readonly topicChecks = new Map<string, Promise<void>>();
  /** Checked at every (re)connection: the topics the publisher knows before any update. */
  private expected: readonly string[] = [];
  private batch: Pending[] = [];

  constructor(private readonly options: KafkaConnectionOptions) {
    this.where = options.brokers.join(',');
    const timeout = options.publishTimeoutMs;
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      ssl: options.ssl,
      sasl: options.sasl,
      connectionTimeout: Math.min(3000, timeout),
      requestTimeout: timeout,
      // A few quick retries (a leader moving, a broker restarting) within PUBLISH_TIMEOUT_MS; past
      // that Telegram gets its 503 and sends the update again.
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 3, factor: 0.2, multiplier: 2 },
      logLevel: logLevel.INFO,
      logCreator: () => (entry) => this.logKafkaJs(entry),
    });
    this.producer = kafka.producer({
      // Java's partitioner (murmur2 of the key): a key lands on the partition a Java, Go or
      // librdkafka producer would put it on.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      // KafkaJS's idempotent producer is marked experimental, and librdkafka's mock cluster (the
      // tests' broker) refuses it; acks=all gives the durability, dedup the once.
      idempotent: false,
    });
    this.admin = kafka.admin();
  }

  /** Connection and topic state as the client knows it: no I/O. */
  health(): PublisherHealth {
    if (!this.reachable) return { up: false, reason: this.unreachable() };
    const [first] = this.missingTopics.values();
    if (first === undefined) return { up: true };
    const more = this.missingTopics.size - 1;
    return { up: false, reason: more > 0 ? `${first} (and ${more} more topics)` : first };
  }

  /**
   * Connects (a failed attempt is retried in the background) and checks the expected topics, so a
   * cluster that is down, or a topic that is missing, is reported at start.
   */
  async connect(): Promise<void> {
    if (this.closed) throw new Error('the Kafka client is closed');
    try {
      await this.producer.connect();
      await this.admin.connect();
      await this.admin.describeCluster();
      this.readyTopics.clear();
      await this.checkTopics(this.expected);
      if (this.lastError) this.log.log(`Kafka at ${this.where} is reachable again`);
      this.lastError = undefined;
      this.reachable = true;
    } catch (error) {
      this.unreachableBy(error);
      throw error instanceof Error ? error : new Error(errorMessage(error));
    }
  }

  /** The topics to check now (when connected) and at every reconnection. */
  async expectTopics(topics: readonly string[]): Promise<void> {
    this.expected = topics;
    if (!this.reachable) return;
    try {
      await this.checkTopics(topics);
    } catch (error) {
      this.unreachableBy(error);
    }
  }

  /**
   * Produces one record with acks=all; resolves once the brokers acknowledged it. Records of one
   * event-loop turn share one produce request.
   */
  send(topic: string, message: Message): Promise<void> {
    if (!this.reachable) return Promise.reject(new Error(this.unreachable()));
    const missing = this.missingTopics.get(topic);
    if (missing !== undefined) return Promise.reject(new Error(missing));
    if (!this.readyTopics.has(topic)) {
      return this.checkTopic(topic).then(
        () => this.enqueue(topic, message),
        (error: unknown) => {
          if (!this.missingTopics.has(topic)) this.unreachableBy(error);
          throw error;
        },
      );
    }
    return this.enqueue(topic, message);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.retry.stop();
    this.topicRetry.stop();
    await this.producer.disconnect();
    await this.admin.disconnect();
  }

  private enqueue(topic: string, message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(this.flush);
      this.batch.push({ topic, message, resolve, reject });
    });
  }

  private readonly flush = (): void => {
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    const topicMessages: TopicMessages[] = [];
    for (const { topic, message } of batch) {
      let entry = topicMessages.find((t) => t.topic === topic);
      if (!entry) topicMessages.push((entry = { topic, messages: [] }));
      entry.messages.push(message);
    }
    this.producer.sendBatch({ topicMessages, acks: -1, timeout: this.options.publishTimeoutMs }).then(
      () => {
        for (const pending of batch) pending.resolve();
      },
      (error: unknown) => {
        const failure = new Error(this.produceFailed(error, topicMessages));
        for (const pending of batch) pending.reject(failure);
      },
    );
  };

  /** What a failed produce request says about the cluster, and the message its updates fail with. */
  private produceFailed(error: unknown, topicMessages: readonly TopicMessages[]): string {
    const type = protocolErrorType(error);
    const topicError = topicErrorType(error) === undefined ? undefined : TOPIC_ERRORS[type as string];
    if (topicError) {
      // Which topic the error is about is not said: look at each again before its next record.
      for (const { topic } of topicMessages) this.readyTopics.delete(topic);
      const [only] = topicMessages;
      if (topicMessages.length === 1 && only) return this.topicMissing(only.topic, topicError(only.topic));
      return errorMessage(error);
    }
    if (type !== undefined && RECORD_ERRORS.has(type))
      return `Kafka refused the records (${type}): ${errorMessage(error)}`;
    this.unreachableBy(error);
    return this.unreachable();
  }

  /** Checks several topics in one metadata request; one by one when the cluster refuses one of them. */
  private async checkTopics(topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return;
    try {
      await this.producer.sendBatch({
        topicMessages: topics.map((topic) => ({ topic, messages: [] })),
        acks: -1,
        timeout: this.options.publishTimeoutMs,
      });
      for (const topic of topics) this.topicReady(topic);
    } catch (error) {
      if (topicErrorType(error) === undefined) throw error;
      for (const topic of topics) {
        try {
          await this.checkTopic(topic);
        } catch (failure) {
          // A missing topic is reported (and looked for again); anything else is the cluster's.
          if (!this.missingTopics.has(topic)) throw failure;
        }
      }
    }
  }

  /** One topic's check, shared by the updates waiting for it. Rejects unless the topic can be written to. */
  private checkTopic(topic: string): Promise<void> {
    let check = this.topicChecks.get(topic);
    if (!check) {
      check = this.ensureTopic(topic).finally(() => this.topicChecks.delete(topic));
      this.topicChecks.set(topic, check);
    }
    return check;
  }

  private async ensureTopic(topic: string): Promise<void> {
    try {
      // A send without records asks for the topic's metadata the way a produce does: a cluster that
      // creates topics on demand creates it now, one that does not answers UNKNOWN_TOPIC_OR_PARTITION.
      await this.producer.send({ topic, messages: [], acks: -1, timeout: this.options.publishTimeoutMs });
      this.topicReady(topic);
    } catch (error) {
      const type = topicErrorType(error);
      const describe = type === undefined ? undefined : TOPIC_ERRORS[type];
      if (!describe) throw error;
      throw new Error(this.topicMissing(topic, describe(topic)));
    }
  }

  private topicReady(topic: string): void {
    if (this.missingTopics.delete(topic)) this.log.log(`Kafka topic ${topic} is there now`);
    if (this.readyTopics.size >= MAX_KNOWN_TOPICS) this.readyTopics.clear();
    this.readyTopics.add(topic);
  }

  private topicMissing(topic: string, reason: string): string {
    if (!this.missingTopics.has(topic)) this.log.error(reason);
    this.missingTopics.set(topic, reason);
    this.topicRetry.schedule();
    return reason;
  }

  private async recheckMissingTopics(): Promise<void> {
    if (this.closed || !this.reachable) {
      if (!this.closed) this.topicRetry.schedule();
      return;
    }
    for (const topic of [...this.missingTopics.keys()]) await this.checkTopic(topic).catch(() => undefined);
    if (this.missingTopics.size > 0) this.topicRetry.schedule();
  }

  private unreachable(): string {
    return `kafka at ${this.where} is not reachable${this.lastError ? `: ${this.lastError}` : ''}`;
  }

  private unreachableBy(error: unknown): void {
    this.reachable = false;
    if (this.closed) return;
    const message = errorMessage(error);
    if (message !== this.lastError) this.log.error(`Kafka at ${this.where}: ${message}`);
    this.lastError = message;
    this.retry.schedule();
  }

  /**
   * KafkaJS's own lines, at debug: during an outage it logs every retry of every request, while
   * this class reports each change of state once. Only the message and the broker are kept — never
   * the whole entry, which can hold client settings.
   */
  private logKafkaJs({ namespace, log }: LogEntry): void {
    const broker = typeof log.broker === 'string' ? ` (broker ${log.broker})` : '';
    const error = typeof log.error === 'string' ? `: ${log.error}` : '';
    this.log.debug(`KafkaJS ${namespace}: ${log.message}${broker}${error}`);
  }
}

/** The `type` of the KafkaJS protocol error behind `error` (KafkaJS wraps it when retries run out). */
function protocolErrorType(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return undefined;
}

function topicErrorType(error: unknown): string | undefined {
  const type = protocolErrorType(error);
  return type !== undefined && Object.hasOwn(TOPIC_ERRORS, type) ? type : undefined;
}
