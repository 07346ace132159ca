import { connect, type Socket } from 'node:net';

/** One HTTP/1.1 connection driven byte by byte, for what fetch cannot do: stall, trickle, abort. */
export interface RawConnection {
  readonly socket: Socket;
  /** The status of the first response, once its status line has arrived. */
  readonly status: Promise<number>;
  /** Everything the server sent, once the connection is closed (by either side). */
  readonly closed: Promise<string>;
  /** Writes as much of `bytes` as the connection takes; resolves when written or the server closed it. */
  send(bytes: Buffer | string): Promise<void>;
}

export function openRaw(port: number): RawConnection {
  const socket = connect({ port, host: '127.0.0.1' });
  let received = '';
  let onStatus: (status: number) => void = () => undefined;
  const status = new Promise<number>((resolve) => (onStatus = resolve));
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
    if (match) onStatus(Number(match[1]));
  });
  // The server may close while we write: that is what several tests wait for.
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  return {
    socket,
    status,
    closed,
    send: (bytes) =>
      socket.destroyed
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => socket.write(bytes, () => resolve())),
            closed.then(() => undefined),
          ]),
  };
}

/** A request's head: `POST <path>` with these headers and the blank line that ends them. */
export function head(path: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}
