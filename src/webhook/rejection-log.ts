import { Injectable, Logger } from '@nestjs/common';

/** Lines logged per reason and window before the rest are only counted. */
const LINES_PER_WINDOW = 5;
const WINDOW_MS = 10_000;

interface Window {
  start: number;
  logged: number;
  suppressed: number;
  timer?: NodeJS.Timeout;
}

/**
 * The log lines of rejected webhook requests, rate-limited: anyone can send rejected requests, and
 * a line for each would let one client fill the disk. Per reason, the first few lines of a window
 * are logged and the rest only counted; when the window ends, one line says how many were left
 * out. Metrics still count every request.
 */
@Injectable()
export class RejectionLog {
  private readonly logger = new Logger('Webhook');
  private readonly windows = new Map<string, Window>();
  private readonly linesPerWindow = LINES_PER_WINDOW;
  private readonly windowMs = WINDOW_MS;

  /** A rejection worth an operator's look (bad secret, publish failure), at warn. */
  warn(reason: string, text: string): void {
    if (this.allow(reason)) this.logger.warn(text);
  }

  /** A rejection that is the client's own business (it went away, it was too slow), at debug. */
  debug(reason: string, text: string): void {
    if (this.allow(reason)) this.logger.debug(text);
  }

  private allow(reason: string): boolean {
    const now = Date.now();
    let window = this.windows.get(reason);
    if (!window) this.windows.set(reason, (window = { start: now, logged: 0, suppressed: 0 }));
    else if (window.suppressed === 0 && now - window.start >= this.windowMs) {
      window.start = now;
      window.logged = 0;
    }
    if (window.logged < this.linesPerWindow) {
      window.logged++;
      return true;
    }
    window.suppressed++;
    // One timer per window in which lines were left out, never one per request.
    window.timer ??= setTimeout(() => this.summarise(reason), window.start + this.windowMs - now).unref();
    return false;
  }

  private summarise(reason: string): void {
    const window = this.windows.get(reason);
    if (!window) return;
    this.windows.delete(reason);
    const seconds = Math.max(1, Math.round((Date.now() - window.start) / 1000));
    this.logger.warn(
      `Left out ${window.suppressed} more line(s) for rejected requests (${reason}) in ${seconds} s; metrics count every one`,
    );
  }

  /** Logs the summaries still pending and stops their timers (at shutdown). */
  flush(): void {
    for (const [reason, window] of this.windows) {
      if (!window.timer) continue;
      clearTimeout(window.timer);
      this.summarise(reason);
    }
  }
}
