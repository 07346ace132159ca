import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { resolveBots } from './bots.js';
import { Settings } from './settings.js';

function botsFrom(yaml: string): { bots: ReturnType<typeof resolveBots>; problems: string[] } {
  const file = join(mkdtempSync(join(tmpdir(), 'bots-spec-')), 'bots.yaml');
  writeFileSync(file, yaml);
  const settings = plainToInstance(Settings, { BOTS_FILE: file });
  const problems: string[] = [];
  return { bots: resolveBots(settings, problems), problems };
}

describe('resolveBots: per-bot routes', () => {
  it('reads lists, comma-separated strings, all and none per target', () => {
    const { bots, problems } = botsFrom(
      [
        '- token: "111:aaa"',
        '  redis_queue: shop',
        '  routes:',
        '    amqp: [pre_checkout_query, shipping_query]',
        '    nats: "message, callback_query"',
        '    redis: all',
        '    mqtt: none',
        '    redis-pubsub: []',
        '    audit_log: [message]',
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    const sut = bots[0]?.routes;
    expect(bots[0]?.redisQueue).toBe('shop');
    expect(sut?.get('amqp')).toEqual(new Set(['pre_checkout_query', 'shipping_query']));
    expect(sut?.get('nats')).toEqual(new Set(['message', 'callback_query']));
    expect(sut?.get('redis')).toBe('all');
    expect(sut?.get('mqtt')).toEqual(new Set());
    expect(sut?.get('redis-pubsub')).toEqual(new Set());
    expect(sut?.get('audit_log')).toEqual(new Set(['message']));
  });

  it('leaves routes undefined for a bot without them', () => {
    const { bots, problems } = botsFrom('- token: "111:aaa"\n');
    expect(problems).toEqual([]);
    expect(bots[0]?.routes).toBeUndefined();
  });

  it('reports malformed routes, naming the entry and never the token', () => {
    const { problems } = botsFrom(
      [
        '- token: "111:aaa"',
        '  routes: [amqp]',
        '- token: "222:bbb"',
        '  routes:',
        '    AMQP: all',
        '    nats: { message: true }',
        '    mqtt:',
        '    redis: [Message]',
      ].join('\n'),
    );
    expect(problems).toEqual([
      'BOTS_FILE entry 1: routes must map target names to update kinds, e.g. { amqp: [pre_checkout_query], mqtt: none }',
      'BOTS_FILE entry 2: routes key "AMQP" is not a target name such as redis, mqtt, amqp or nats',
      'BOTS_FILE entry 2: routes.nats must be a list of update kinds such as [message, callback_query], all or none',
      'BOTS_FILE entry 2: routes.mqtt must be a list of update kinds such as [message, callback_query], all or none',
      'BOTS_FILE entry 2: routes.redis must be a list of update kinds such as [message, callback_query], all or none',
    ]);
    expect(problems.join('\n')).not.toMatch(/111:aaa|222:bbb/);
  });

  it('still rejects unknown keys, listing routes among the known ones', () => {
    const { problems } = botsFrom('- token: "111:aaa"\n  route: { amqp: all }\n');
    expect(problems).toEqual([
      'BOTS_FILE entry 1: unknown key(s) route; known: token, endpoint, secret, allowed_updates, redis_queue, mqtt_topic, kafka_topic, routes',
    ]);
  });
});
