import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('npm run demo', () => {
  it('runs offline and shows every update received → published → consumed → reply sent', async () => {
    // Only PATH (and HOME for npm) from this environment: no token, no broker URL, no TELEGRAM_API_URL.
    const child = spawn('npm', ['run', '--silent', 'demo'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];

    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    for (const [chat, text] of [
      ['1001', 'Hello! 👋'],
      ['1002', '/start'],
      ['-1001234567890', 'What can this bot do?'],
      ['1001', 'Thanks, bye'],
    ]) {
      expect(stdout).toContain(`reply sent  sendMessage to chat ${chat}: "You said: ${text}"`);
    }
    expect(stdout.match(/received {4}POST \S+ → 200 in \d+ ms/g)).toHaveLength(4);
    expect(stdout.match(/published {3}MQTT telegram\/5550001234\/message/g)).toHaveLength(4);
    expect(stdout.match(/consumed {4}by the example consumer/g)).toHaveLength(4);
    expect(stdout).toContain('recognised as a duplicate: not published again, no second reply');
    expect(stdout).toContain('✓ 4 updates went received → published → consumed → reply sent.');
  });
});
