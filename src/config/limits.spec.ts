import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, loadConfig, readEnvironment, SETTING_NAMES } from './load-settings.js';

const TOKEN = '123456:AAH-secret_token_value';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ TELEGRAM_SET_WEBHOOK: 'false', ...env });
  } catch (error) {
    if (error instanceof ConfigurationError) return [...error.problems];
    throw error;
  }
  return [];
}

function tempFile(name: string, content = ''): string {
  const file = join(mkdtempSync(join(tmpdir(), 'limits-spec-')), name);
  writeFileSync(file, content);
  return file;
}

/** The problems of a BOTS_FILE with one bot holding these keys. */
function problemsOfBot(bot: object): string[] {
  return problemsOf({ BOTS_FILE: tempFile('bots.json', JSON.stringify([{ token: '1:a', ...bot }])) });
}

const MQTT_RULE = 'must be an MQTT topic to publish to, without the wildcards + and # or control characters';
const NATS_RULE =
  'must be a NATS subject to publish to: tokens separated by ., without the wildcards * and >, whitespace or control characters';

describe('BOTS_FILE size', () => {
  it('refuses a file over 16 MiB by its size, before reading it', () => {
    const file = tempFile('bots.yaml');
    truncateSync(file, 17 * 1024 * 1024); // sparse: nothing to read but zeros, were it read
    expect(problemsOf({ BOTS_FILE: file })).toEqual([
      `BOTS_FILE is 17825792 bytes; the limit is 16 MiB (16777216 bytes): ${file}`,
    ]);
  });

  it('stops reading a pipe one byte past 16 MiB', () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'limits-spec-')), 'bots.yaml');
    execFileSync('mkfifo', [fifo]);
    // The writer ends by SIGPIPE once the reader stops.
    const writer = spawn('sh', ['-c', `head -c 20000000 /dev/zero > '${fifo}'`], { stdio: 'ignore' });
    try {
      expect(problemsOf({ BOTS_FILE: fifo })).toEqual([
        `BOTS_FILE holds more than 16777216 bytes; the limit is 16 MiB (16777216 bytes): ${fifo}`,
      ]);
    } finally {
      writer.kill();
    }
  });
});

describe('ENV_FILE size', () => {
  it('refuses an env file over 1 MiB by its size, before reading it', () => {
    const file = tempFile('big.env');
    truncateSync(file, 2 * 1024 * 1024);
    expect(() => readEnvironment({ ENV_FILE: file })).toThrow(
      new ConfigurationError([`ENV_FILE ${file} is 2097152 bytes; the limit is 1 MiB (1048576 bytes)`]),
    );
    writeFileSync(file, 'WEBHOOK_PORT=9100\n');
    expect(readEnvironment({ ENV_FILE: file }).WEBHOOK_PORT).toBe('9100');
  });
});

describe('BOTS_FILE entries: field limits', () => {
  it('refuses a token over 256 characters without showing it', () => {
    const token = `1:${'a'.repeat(298)}`;
    const problems = problemsOfBot({ token });
    expect(problems).toEqual(['BOTS_FILE entry 1: token is 300 characters long; the limit is 256']);
  });

  it('refuses a redis_queue over 512 characters, as REDIS_QUEUE_NAME', () => {
    expect(problemsOfBot({ redis_queue: 'q'.repeat(513) })).toEqual([
      'BOTS_FILE entry 1: redis_queue is 513 characters long; the limit is 512',
    ]);
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, REDIS_QUEUE_NAME: 'q'.repeat(513) })).toEqual([
      'REDIS_QUEUE_NAME is 513 characters long; the limit is 512',
    ]);
    expect(problemsOfBot({ redis_queue: 'q'.repeat(512) })).toEqual([]);
  });

  it('refuses an mqtt_topic over 1024 characters or with a wildcard or NUL, as MQTT_TOPIC', () => {
    expect(problemsOfBot({ mqtt_topic: 't'.repeat(1025) })).toEqual([
      'BOTS_FILE entry 1: mqtt_topic is 1025 characters long; the limit is 1024',
    ]);
    for (const [topic, what] of [
      ['shop/#', '"#"'],
      ['shop/+/{type}', '"+"'],
      ['shop/\u0000/{type}', 'a control character'],
    ] as const) {
      expect(problemsOfBot({ mqtt_topic: topic })).toEqual([
        `BOTS_FILE entry 1: mqtt_topic ${MQTT_RULE}; it contains ${what}`,
      ]);
      expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, MQTT_TOPIC: topic })).toEqual([
        `MQTT_TOPIC ${MQTT_RULE}; it contains ${what}`,
      ]);
    }
    expect(problemsOfBot({ mqtt_topic: 'shop floor/{bot}/{type}' })).toEqual([]);
  });

  it('checks allowed_updates and routes kinds against KIND_PATTERN, at most 64 per list', () => {
    const kinds = Array.from({ length: 65 }, (_, i) => `kind_${i}`);
    expect(problemsOfBot({ allowed_updates: kinds })).toEqual([
      'BOTS_FILE entry 1: allowed_updates lists 65 update kinds; the limit is 64',
    ]);
    expect(problemsOfBot({ allowed_updates: kinds.join(',') })).toEqual([
      'BOTS_FILE entry 1: allowed_updates lists 65 update kinds; the limit is 64',
    ]);
    expect(problemsOfBot({ routes: { amqp: kinds } })).toEqual([
      'BOTS_FILE entry 1: routes.amqp lists 65 update kinds; the limit is 64',
    ]);
    expect(problemsOfBot({ allowed_updates: ['k'.repeat(65)], routes: { amqp: ['a/#'] } })).toEqual([
      'BOTS_FILE entry 1: allowed_updates must be a list of update kinds such as [message, callback_query]',
      'BOTS_FILE entry 1: routes.amqp must be a list of update kinds such as [message, callback_query], all or none',
    ]);
    expect(problemsOfBot({ allowed_updates: 'message,'.repeat(1000) })).toEqual([
      'BOTS_FILE entry 1: allowed_updates is 8000 characters long; the limit is 4096',
    ]);
    expect(
      problemsOfBot({ allowed_updates: kinds.slice(0, 64), routes: { nats: ['k'.repeat(64)] } }),
    ).toEqual([]);
  });

  it('bounds routes keys: at most 64 targets, names of at most 64 characters, shown only when short', () => {
    const routes = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`target${i}`, 'all']));
    expect(problemsOfBot({ routes })).toEqual([
      'BOTS_FILE entry 1: routes names 65 targets; the limit is 64',
    ]);
    expect(problemsOfBot({ routes: { ['t'.repeat(65)]: 'all' } })).toEqual([
      'BOTS_FILE entry 1: routes key (a key of 65 characters) is not a target name such as redis, mqtt, amqp or nats',
    ]);
  });

  it('shows a few unknown keys, the long ones by their length', () => {
    const keys = ['k'.repeat(100_000), 'b', 'c', 'd', 'e', 'f', 'g'];
    expect(problemsOfBot(Object.fromEntries(keys.map((key) => [key, 1])))).toEqual([
      'BOTS_FILE entry 1: unknown key(s) (a key of 100000 characters), b, c, d, e and 2 more; known: token, endpoint, secret, allowed_updates, redis_queue, mqtt_topic, kafka_topic, routes',
    ]);
  });
});

describe('settings from the environment: lengths and broker names', () => {
  /** Far over every limit: refused by its length alone, before any pattern or parser reads it. */
  const HUGE = '7'.repeat(64 * 1024 * 1024);

  it.each(SETTING_NAMES)('%s: a 64 MB value is refused, naming the setting, never echoing it', (name) => {
    const problems = problemsOf({ TELEGRAM_TOKEN: TOKEN, [name]: HUGE });
    expect(problems.find((problem) => problem.startsWith(`${name} `))).toBeDefined();
    expect(problems.join('\n').length).toBeLessThan(10_000);
  });

  it.each([
    ['ENV_FILE', 4096],
    ['WEBHOOK_DOMAIN', 512],
    ['WEBHOOK_BIND', 512],
    ['TELEGRAM_TOKEN', 256],
    ['BOTS_FILE', 4096],
    ['TELEGRAM_API_URL', 4096],
    ['REDIS_URL', 4096],
    ['REDIS_QUEUE_NAME', 512],
    ['MQTT_URL', 4096],
    ['MQTT_TOPIC', 1024],
    ['REDIS_PUBSUB_CHANNEL', 512],
    ['AMQP_URL', 4096],
    ['AMQP_EXCHANGE', 255],
    ['NATS_URL', 4096],
    ['NATS_SUBJECT', 512],
    ['NATS_STREAM', 255],
    ['WEBHOOK_CERT', 4096],
    ['WEBHOOK_KEY', 4096],
    ['NGROK_API_URL', 4096],
    ['WEBHOOK_LIMIT_SUBNETS', 4096],
    ['WEBHOOK_TRUSTED_PROXIES', 4096],
    ['WEBHOOK_ALLOWED_UPDATES', 4096],
    ['REDIS_TYPES', 4096],
    ['NATS_TYPES', 4096],
  ])('%s is at most %d characters', (name, limit) => {
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, [name]: HUGE })).toContain(
      `${name} is ${HUGE.length} characters long; the limit is ${limit}`,
    );
  });

  it('says an endpoint is too long in the words of the endpoint rule', () => {
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, WEBHOOK_ENDPOINT: HUGE })).toEqual([
      `WEBHOOK_ENDPOINT must be hash, random, token or a URL path: segments of A-Z a-z 0-9 . _ ~ - separated by /, at most 256 characters; it is ${HUGE.length} characters long`,
    ]);
  });

  it('checks update kind lists against KIND_PATTERN, at most 64 kinds', () => {
    const kinds = Array.from({ length: 65 }, (_, i) => `kind_${i}`);
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, WEBHOOK_ALLOWED_UPDATES: kinds.join(',') })).toEqual([
      'WEBHOOK_ALLOWED_UPDATES lists 65 update kinds; the limit is 64',
    ]);
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, MQTT_TYPES: `message,${'k'.repeat(65)}` })).toEqual([
      'MQTT_TYPES must be a comma-separated list of update kinds such as message,callback_query',
    ]);
    expect(
      problemsOf({ TELEGRAM_TOKEN: TOKEN, AMQP_TYPES: kinds.slice(0, 64).join(','), NATS_TYPES: 'kind2' }),
    ).toEqual([]);
  });

  it.each([
    ['telegram.*.{type}', 'it contains "*"'],
    ['telegram.>', 'it contains ">"'],
    ['telegram {bot}.{type}', 'it contains a space'],
    ['telegram.{bot}\t{type}', 'it contains a control character'],
    ['telegram..{type}', 'it has an empty token (a leading, trailing or double .)'],
    ['.telegram.{type}', 'it has an empty token (a leading, trailing or double .)'],
    ['telegram.{type}.', 'it has an empty token (a leading, trailing or double .)'],
  ])('NATS_SUBJECT %j is refused: %s', (subject, what) => {
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, NATS_SUBJECT: subject })).toEqual([
      `NATS_SUBJECT ${NATS_RULE}; ${what}`,
    ]);
  });

  it('refuses MQTT wildcards and NUL in MQTT_TOPIC, spaces and NUL in Redis channels and exchange names', () => {
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, MQTT_TOPIC: 'telegram/+/{type}' })).toEqual([
      `MQTT_TOPIC ${MQTT_RULE}; it contains "+"`,
    ]);
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, REDIS_PUBSUB_CHANNEL: 'telegram {bot}' })).toEqual([
      'REDIS_PUBSUB_CHANNEL must be a Redis channel without whitespace or control characters; it contains a space',
    ]);
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, REDIS_PUBSUB_CHANNEL: 'telegram\u0000' })).toEqual([
      'REDIS_PUBSUB_CHANNEL must be a Redis channel without whitespace or control characters; it contains a control character',
    ]);
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, AMQP_EXCHANGE: 'my exchange' })).toEqual([
      'AMQP_EXCHANGE must be a RabbitMQ exchange name without whitespace or control characters; it contains a space',
    ]);
    expect(problemsOf({ TELEGRAM_TOKEN: TOKEN, AMQP_EXCHANGE: 'я'.repeat(128) })).toEqual([
      'AMQP_EXCHANGE is 256 bytes long in UTF-8; the limit is 255',
    ]);
    expect(
      problemsOf({
        TELEGRAM_TOKEN: TOKEN,
        MQTT_TOPIC: 'bots {bot}/{type}',
        REDIS_PUBSUB_CHANNEL: 'telegram:{bot}:*',
        AMQP_EXCHANGE: 'telegram.updates',
        NATS_SUBJECT: 'telegram.bot-{bot}.{type}',
      }),
    ).toEqual([]);
  });
});
