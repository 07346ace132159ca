import { displaySetting, maskToken, maskUrlCredentials, withoutToken } from './mask.js';

describe('CLI masking', () => {
  const token = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';

  it('keeps only the public bot id of a token', () => {
    expect(maskToken(token)).toBe('123456789:***');
    expect(maskToken('garbage')).toBe('***');
  });

  it('removes the token from a webhook URL (WEBHOOK_ENDPOINT=token)', () => {
    expect(withoutToken(`https://bot.example.com/${token}`, token)).toBe('https://bot.example.com/<token>');
  });

  it('hides URL passwords, and a user that stands alone (often a key)', () => {
    expect(maskUrlCredentials('redis://:hunter2@127.0.0.1:6379/0')).toBe('redis://:***@127.0.0.1:6379/0');
    expect(maskUrlCredentials('amqp://guest:guest@rabbit:5672')).toBe('amqp://guest:***@rabbit:5672');
    expect(maskUrlCredentials('nats://s3cr3t-key@nats:4222')).toBe('nats://***@nats:4222');
    expect(maskUrlCredentials('https://api.telegram.org')).toBe('https://api.telegram.org');
  });

  it('shows settings: secrets masked, lists joined, unset marked', () => {
    expect(displaySetting('TELEGRAM_TOKEN', token)).toBe('123456789:***');
    expect(displaySetting('WEBHOOK_SECRET', 'my-secret')).toBe('***');
    expect(displaySetting('REDIS_URL', 'redis://u:p@h:1')).toBe('redis://u:***@h:1');
    expect(displaySetting('WEBHOOK_ALLOWED_UPDATES', ['message', 'callback_query'])).toBe(
      'message,callback_query',
    );
    expect(
      displaySetting('WEBHOOK_LIMIT_SUBNETS', [
        { address: '10.0.0.0', prefix: 8, family: 'ipv4', text: '10.0.0.0/8' },
      ]),
    ).toBe('10.0.0.0/8');
    expect(displaySetting('WEBHOOK_CERT', undefined)).toBe('(not set)');
    expect(displaySetting('WEBHOOK_PORT', 8443)).toBe('8443');
  });
});
