import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { displaySetting } from '../cli/mask.js';
import { ConfigurationError, loadConfig } from './load-settings.js';

const TOKEN = '123456:AAH-secret_token_value';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ TELEGRAM_SET_WEBHOOK: 'false', TELEGRAM_TOKEN: TOKEN, ...env });
  } catch (error) {
    if (error instanceof ConfigurationError) return [...error.problems];
    throw error;
  }
  return [];
}

function tempFile(name: string, content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kafka-settings-')), name);
  writeFileSync(file, content);
  return file;
}

const TOPIC_RULE = 'must be a Kafka topic: letters, digits, ., _ and - besides {bot} and {type}';

describe('Kafka settings', () => {
  it('are off by default, with the documented defaults', () => {
    const { settings } = loadConfig({ TELEGRAM_SET_WEBHOOK: 'false', TELEGRAM_TOKEN: TOKEN });
    expect(settings.KAFKA_BROKERS).toBeUndefined();
    expect(settings.KAFKA_TOPIC).toBe('telegram.{bot}');
    expect(settings.KAFKA_CLIENT_ID).toBe('telegram-receiver');
    expect(settings.KAFKA_TLS).toBe(false);
  });

  it('split KAFKA_BROKERS into host:port entries, once', () => {
    const { settings } = loadConfig({
      TELEGRAM_SET_WEBHOOK: 'false',
      TELEGRAM_TOKEN: TOKEN,
      KAFKA_BROKERS: ' kafka-1.internal:9092, 10.0.0.7:9093 ,b-1.msk.eu-west-1.amazonaws.com:9096',
    });
    expect(settings.KAFKA_BROKERS?.map(({ host, port }) => `${host}:${port}`)).toEqual([
      'kafka-1.internal:9092',
      '10.0.0.7:9093',
      'b-1.msk.eu-west-1.amazonaws.com:9096',
    ]);
  });

  it.each([
    ['kafka-1', '"kafka-1" is not host:port'],
    ['kafka-1:0', '"kafka-1:0" has no port between 1 and 65535'],
    [
      'kafka-1:9092,kafka 2:9092',
      '"kafka 2:9092" is not host:port (the host is not a host name or IPv4 address)',
    ],
  ])('refuse the broker %j', (brokers, what) => {
    expect(problemsOf({ KAFKA_BROKERS: brokers })).toEqual([
      `KAFKA_BROKERS must be a comma-separated list of host:port: ${what}`,
    ]);
  });

  it('refuse an IPv6 broker, which KafkaJS cannot reach', () => {
    expect(problemsOf({ KAFKA_BROKERS: '[::1]:9092' })).toEqual([
      'KAFKA_BROKERS: the Kafka client (KafkaJS) cannot connect to an IPv6 address such as [::1]:9092; use a host name',
    ]);
  });

  it.each([
    ['telegram/{bot}', `KAFKA_TOPIC ${TOPIC_RULE}; it contains "/"`],
    ['telegram {bot}', `KAFKA_TOPIC ${TOPIC_RULE}; it contains a space`],
    ['tg.{bot}.{type}.{chat}', `KAFKA_TOPIC ${TOPIC_RULE}; it contains "{"`],
    [
      `${'t'.repeat(170)}.{bot}.{type}`,
      "KAFKA_TOPIC can grow to 252 characters once {bot} (up to 16 digits) and {type} (up to 64 characters) are filled in; Kafka's limit is 249",
    ],
    ['t'.repeat(250), 'KAFKA_TOPIC is 250 characters long; the limit is 249'],
    ['..', 'KAFKA_TOPIC cannot be . or .. (Kafka refuses both)'],
  ])('refuse the topic %j', (topic, problem) => {
    expect(problemsOf({ KAFKA_TOPIC: topic })).toEqual([problem]);
  });

  it('take topics Kafka takes, and a bot’s kafka_topic by the same rule', () => {
    expect(problemsOf({ KAFKA_TOPIC: 'Shop_updates-v2.{bot}.{type}' })).toEqual([]);
    const bots = tempFile(
      'bots.json',
      JSON.stringify([
        { token: '1:a', kafka_topic: 'shop.{type}' },
        { token: '2:b', kafka_topic: 'shop/{type}' },
      ]),
    );
    expect(problemsOf({ BOTS_FILE: bots, TELEGRAM_TOKEN: '' })).toEqual([
      `BOTS_FILE entry 2: kafka_topic ${TOPIC_RULE}; it contains "/"`,
    ]);
    const good = tempFile('bots.yaml', 'bots:\n  - token: "1:a"\n    kafka_topic: shop.{type}\n');
    expect(loadConfig({ TELEGRAM_SET_WEBHOOK: 'false', BOTS_FILE: good }).bots[0]?.kafkaTopic).toBe(
      'shop.{type}',
    );
  });

  it('want SASL whole: a mechanism of the three, with a user name and a password, never shown', () => {
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'gssapi' })).toEqual([
      'KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512',
    ]);
    expect(
      problemsOf({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 'hunter2-secret' }),
    ).toEqual(['KAFKA_SASL_MECHANISM=scram-sha-512 needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD']);
    const problems = problemsOf({ KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'hunter2-secret' });
    expect(problems).toEqual([
      'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are used with KAFKA_SASL_MECHANISM (plain, scram-sha-256 or scram-sha-512): set it',
    ]);
    expect(
      problemsOf({
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'svc',
        KAFKA_SASL_PASSWORD: 'hunter2-secret',
      }),
    ).toEqual([]);
    expect(displaySetting('KAFKA_SASL_PASSWORD', 'hunter2-secret')).toBe('***');
  });

  it('want KAFKA_TLS=true for a CA, and a readable PEM file', () => {
    const pem = tempFile('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(problemsOf({ KAFKA_TLS_CA: pem })).toEqual(['KAFKA_TLS_CA is used with KAFKA_TLS=true: set it']);
    expect(problemsOf({ KAFKA_TLS: 'true', KAFKA_TLS_CA: pem })).toEqual([]);
    expect(problemsOf({ KAFKA_TLS: 'true', KAFKA_TLS_CA: '/nonexistent/ca.pem' })).toEqual([
      'KAFKA_TLS_CA cannot be read (ENOENT): /nonexistent/ca.pem',
    ]);
    const notPem = tempFile('ca.der', 'binary junk');
    expect(problemsOf({ KAFKA_TLS: 'true', KAFKA_TLS_CA: notPem })).toEqual([
      `KAFKA_TLS_CA must be a PEM file of CA certificates: ${notPem}`,
    ]);
  });

  it('refuse a KAFKA_CLIENT_ID Kafka would not show plainly', () => {
    expect(problemsOf({ KAFKA_CLIENT_ID: 'my receiver' })).toEqual([
      'KAFKA_CLIENT_ID must be letters, digits, ., _ or -',
    ]);
  });
});
