import type { LogLevel as NestLogLevel } from '@nestjs/common';
import type { LogLevel } from '../config/settings.js';

/** Nest's levels enabled for a LOG_LEVEL: that level and everything more severe. */
export function nestLogLevels(level: LogLevel): NestLogLevel[] {
  const order: Array<[LogLevel, NestLogLevel[]]> = [
    ['fatal', ['fatal']],
    ['error', ['error']],
    ['warn', ['warn']],
    ['info', ['log']],
    ['debug', ['debug']],
    ['trace', ['verbose']],
  ];
  const enabled: NestLogLevel[] = [];
  for (const [name, levels] of order) {
    enabled.push(...levels);
    if (name === level) return enabled;
  }
  return [];
}
