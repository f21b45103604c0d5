/**
 * Redis's LFU counter, in the 24 bits an entry's access word has (see
 * `storage/key_table.ts`): the high 16 bits the last decrement time in
 * minutes (wrapping), the low 8 a logarithmic access counter. A new key
 * starts at {@link LFU_INIT_VAL} so that it is not evicted before it had a
 * chance to be used; each access increments the counter with probability
 * `1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1)`; the counter decays
 * by one every `lfu-decay-time` minutes without access. Same arithmetic as
 * Redis's evict.c (LFULogIncr, LFUDecrAndReturn), so OBJECT FREQ and the
 * eviction order follow Redis's.
 *
 * @example
 * ```ts
 * const word = lfuNewWord(Date.now());
 * lfuCounter(word, Date.now(), 1); // 5
 * ```
 * @module
 */

/** A new key's counter (Redis's LFU_INIT_VAL). */
export const LFU_INIT_VAL = 5;
const COUNTER_MAX = 255;
const MINUTES_MASK = 0xffff;

/**
 * The LFU clock: minutes, 16 bits (Redis's LFUGetTimeInMinutes).
 *
 * @example
 * ```ts
 * lfuMinutes(Date.now()); // 0..65535
 * ```
 */
export function lfuMinutes(nowMs: number): number {
  return Math.floor(nowMs / 60_000) & MINUTES_MASK;
}

/**
 * The 24-bit word of a key created now.
 *
 * @example
 * ```ts
 * lfuNewWord(0); // 5
 * ```
 */
export function lfuNewWord(nowMs: number): number {
  return (lfuMinutes(nowMs) << 8) | LFU_INIT_VAL;
}

/** Minutes since `then` on the wrapping 16-bit clock (Redis's LFUTimeElapsed). */
function elapsedMinutes(nowMinutes: number, then: number): number {
  return nowMinutes >= then ? nowMinutes - then : MINUTES_MASK + 1 - then + nowMinutes;
}

/**
 * The counter of `word` after its decay up to `nowMs` (Redis's
 * LFUDecrAndReturn: what OBJECT FREQ answers and eviction ranks by).
 *
 * @example
 * ```ts
 * lfuCounter(lfuNewWord(0), 120_000, 1); // 3: two minutes, two decrements
 * ```
 */
export function lfuCounter(word: number, nowMs: number, decayMinutes: number): number {
  const counter = word & 0xff;
  if (decayMinutes <= 0) return counter;
  const periods = Math.floor(elapsedMinutes(lfuMinutes(nowMs), word >>> 8) / decayMinutes);
  return periods > counter ? 0 : counter - periods;
}

/**
 * The word after one access at `nowMs`: decayed, then incremented
 * logarithmically (`random` in [0, 1)), stamped with the current minute
 * (Redis's updateLFU).
 *
 * @example
 * ```ts
 * lfuTouched(lfuNewWord(0), 0, 10, 1, 0); // counter 6: an increment at random 0
 * ```
 */
export function lfuTouched(
  word: number,
  nowMs: number,
  logFactor: number,
  decayMinutes: number,
  random: number,
): number {
  let counter = lfuCounter(word, nowMs, decayMinutes);
  if (counter < COUNTER_MAX) {
    const base = counter > LFU_INIT_VAL ? counter - LFU_INIT_VAL : 0;
    if (random < 1 / (base * logFactor + 1)) counter++;
  }
  return (lfuMinutes(nowMs) << 8) | counter;
}
