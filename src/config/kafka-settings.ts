import { readWithin, tooLargeFile } from './read-within.js';
import type { Settings } from './settings.js';

/** Largest KAFKA_TLS_CA read: a PEM bundle is a few kilobytes; a larger file is a mistake. */
const MAX_CA_FILE_BYTES = 1024 * 1024;

/**
 * What is wrong with the Kafka settings taken together, each problem naming its settings and no
 * value but the mechanism: SASL given whole or not at all, a CA only with TLS and readable, brokers
 * the client can reach. `invalid` names the settings already refused on their own, not looked at.
 */
export function kafkaProblems(settings: Settings, invalid: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const sasl = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const;
  if (!sasl.some((name) => invalid.has(name))) {
    const {
      KAFKA_SASL_MECHANISM: mechanism,
      KAFKA_SASL_USERNAME: username,
      KAFKA_SASL_PASSWORD: password,
    } = settings;
    if (mechanism !== undefined && (username === undefined || password === undefined)) {
      problems.push(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
    }
    if (mechanism === undefined && (username !== undefined || password !== undefined)) {
      problems.push(
        'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are used with KAFKA_SASL_MECHANISM (plain, scram-sha-256 or scram-sha-512): set it',
      );
    }
  }
  const ca = settings.KAFKA_TLS_CA;
  if (ca !== undefined && !invalid.has('KAFKA_TLS_CA') && !invalid.has('KAFKA_TLS')) {
    if (!settings.KAFKA_TLS) problems.push('KAFKA_TLS_CA is used with KAFKA_TLS=true: set it');
    else {
      const file = readWithin(ca, MAX_CA_FILE_BYTES);
      if ('error' in file) problems.push(`KAFKA_TLS_CA cannot be read (${file.error}): ${ca}`);
      else if ('tooLarge' in file)
        problems.push(`KAFKA_TLS_CA ${tooLargeFile(file.tooLarge, MAX_CA_FILE_BYTES)}: ${ca}`);
      else if (!file.text.includes('-----BEGIN CERTIFICATE-----'))
        problems.push(`KAFKA_TLS_CA must be a PEM file of CA certificates: ${ca}`);
    }
  }
  if (!invalid.has('KAFKA_BROKERS')) {
    for (const broker of settings.KAFKA_BROKERS ?? []) {
      // KafkaJS splits a broker at its first colon: an IPv6 address cannot be written for it.
      if (broker.host.includes(':')) {
        problems.push(
          `KAFKA_BROKERS: the Kafka client (KafkaJS) cannot connect to an IPv6 address such as ${broker.text}; use a host name`,
        );
      }
    }
  }
  return problems;
}
