/**
 * A mutex in one Int32 word of shared memory, for the shared-table variant:
 * 0 free, 1 held, 2 held with sleepers (Drepper's futex mutex, "Futexes
 * are tricky", mutex 2). Taking a free lock is one compareExchange and
 * releasing it one exchange; a waiter spins {@link SPIN_LIMIT} loads, then
 * sleeps in `Atomics.wait`, because a holder may be descheduled or busy in
 * its event loop's I/O and a sleeping waiter gives its core back.
 *
 * @example
 * ```ts
 * const words = new Int32Array(new SharedArrayBuffer(64));
 * lock(words, 0);
 * try {
 *   // the critical section
 * } finally {
 *   unlock(words, 0);
 * }
 * ```
 * @module
 */

/**
 * Loads a waiter spins before it sleeps: ~1 µs, several times a table
 * operation's critical section (0.1–0.3 µs measured), far less than a
 * futex sleep and wake-up (5–50 µs).
 */
export const SPIN_LIMIT = 200;

/**
 * Takes the lock in `words[at]`, spinning then sleeping while another
 * thread holds it.
 *
 * @example
 * ```ts
 * lock(words, 0);
 * ```
 */
export function lock(words: Int32Array, at: number): void {
  if (Atomics.compareExchange(words, at, 0, 1) !== 0) lockSlow(words, at);
}

function lockSlow(words: Int32Array, at: number): void {
  for (let spin = 0; spin < SPIN_LIMIT; spin++) {
    if (Atomics.load(words, at) === 0 && Atomics.compareExchange(words, at, 0, 1) === 0) return;
  }
  // Mark the lock contended (2) so that its holder wakes a sleeper.
  while (Atomics.exchange(words, at, 2) !== 0) Atomics.wait(words, at, 2);
}

/**
 * Releases the lock in `words[at]`, waking one sleeper if any.
 *
 * @example
 * ```ts
 * unlock(words, 0);
 * ```
 */
export function unlock(words: Int32Array, at: number): void {
  if (Atomics.exchange(words, at, 0) === 2) Atomics.notify(words, at, 1);
}
