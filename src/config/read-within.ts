import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** A file's text, or why it was not read: larger than the limit (its size, when it has one), or an error code. */
export type ReadWithin = { text: string } | { tooLarge: number | undefined } | { error: string };

/**
 * Reads a UTF-8 file of at most `limit` bytes. A regular file is refused by its size before a
 * byte is read; a pipe or a device, which has no size, is read one byte past the limit at most.
 */
export function readWithin(path: string, limit: number): ReadWithin {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const { size } = fstatSync(fd);
    if (size > limit) return { tooLarge: size };
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.max(size + 1 - total, 65_536));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) return { text: Buffer.concat(chunks, total).toString('utf8') };
      chunks.push(chunk.subarray(0, read));
      total += read;
      if (total > limit) return { tooLarge: undefined };
    }
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? 'error' };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `is 17825792 bytes; the limit is 16 MiB (16777216 bytes)`, for a ReadWithin's `tooLarge`. */
export function tooLargeFile(size: number | undefined, limit: number): string {
  const bound = `the limit is ${limit / 1024 / 1024} MiB (${limit} bytes)`;
  return size === undefined ? `holds more than ${limit} bytes; ${bound}` : `is ${size} bytes; ${bound}`;
}
