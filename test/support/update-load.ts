/** Loads of Telegram-like updates for failover tests, and the exactly-once check of what was stored. */
import { realisticUpdate } from './fake-bot-api.js';

/**
 * `unique` updates from `firstId`, plus `duplicateShare` of them again (Telegram's redeliveries),
 * shuffled deterministically. Each is sent as the exact JSON string, so stored bytes can be compared.
 */
export function updatesWithDuplicates(unique: number, firstId: number, duplicateShare = 0.1): string[] {
  const updates = Array.from({ length: unique }, (_, i) =>
    JSON.stringify(realisticUpdate(firstId + i, { chatId: 1000 + (i % 97) })),
  );
  const duplicates = Array.from(
    { length: Math.round(unique * duplicateShare) },
    (_, i) => updates[(i * 7919) % unique] as string,
  );
  const all = [...updates, ...duplicates];
  for (let i = all.length - 1; i > 0; i--) {
    const j = (i * 2654435761) % (i + 1);
    [all[i], all[j]] = [all[j] as string, all[i] as string];
  }
  return all;
}

/** update_id of a stored entry (the raw body). */
export function updateIdOf(entry: string): number {
  return (JSON.parse(entry) as { update_id: number }).update_id;
}

/** How stored entries compare with the updates acknowledged (200): which are missing, which doubled. */
export function storedVersusAcked(
  stored: readonly string[],
  acked: Iterable<number>,
): { missing: number[]; doubled: number[]; stored: number } {
  const counts = new Map<number, number>();
  for (const entry of stored) {
    const id = updateIdOf(entry);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const missing = [...acked].filter((id) => !counts.has(id));
  const doubled = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  return { missing, doubled, stored: stored.length };
}
