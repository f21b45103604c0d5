/**
 * Seeded random command sequences and their shrinking, for differential
 * tests (tests/_differential.ts): a tiny PRNG (mulberry32), weighted
 * templates over a small universe of keys and values (so keys collide and
 * types clash), and a shrinker that drops items while a sequence still
 * fails.
 *
 * ```ts
 * import { generate, Rng, template } from "./_generate.ts";
 * const keys = ["a", "b"];
 * const templates = [
 *   template(3, (r: Rng) => ["SET", r.pick(keys), String(r.int(0, 9))]),
 *   template(1, (r: Rng) => ["INCR", r.pick(keys)]),
 * ];
 * generate(templates, 42, 100); // the same 100 commands for seed 42, every time
 * ```
 *
 * @module
 */

/**
 * mulberry32: a 32-bit state PRNG, tiny and good enough to pick commands.
 * The same seed gives the same sequence on every machine.
 */
export class Rng {
  #state: number;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed ${seed} is not an integer`);
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && lo <= hi)) {
      throw new RangeError(`bad range [${lo}, ${hi}]`);
    }
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty list");
    return items[Math.floor(this.next() * items.length)];
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** `count` distinct-or-not picks (repeats allowed, as in real requests). */
  some<T>(items: readonly T[], count: number): T[] {
    return Array.from({ length: count }, () => this.pick(items));
  }

  /** A binary string of `count` random bytes. */
  bytes(count: number): string {
    let s = "";
    for (let i = 0; i < count; i++) s += String.fromCharCode(this.int(0, 255));
    return s;
  }
}

/** One kind of random item (a command), chosen with probability proportional to `weight`. */
export interface Template<T> {
  readonly weight: number;
  readonly make: (rng: Rng) => T;
}

/** A {@link Template}. */
export function template<T>(weight: number, make: (rng: Rng) => T): Template<T> {
  if (!(weight > 0 && Number.isFinite(weight))) {
    throw new RangeError(`weight ${weight} must be > 0`);
  }
  return { weight, make };
}

/** The most items one sequence may have (a limit, so a typo cannot ask for billions). */
export const MAX_SEQUENCE_LENGTH = 100_000;

/** `length` items from `templates`, the same for the same seed. */
export function generate<T>(templates: readonly Template<T>[], seed: number, length: number): T[] {
  if (templates.length === 0) throw new RangeError("no templates");
  if (!(Number.isInteger(length) && length >= 0 && length <= MAX_SEQUENCE_LENGTH)) {
    throw new RangeError(`length ${length} not in [0, ${MAX_SEQUENCE_LENGTH}]`);
  }
  const rng = new Rng(seed);
  const total = templates.reduce((n, t) => n + t.weight, 0);
  const out: T[] = [];
  for (let i = 0; i < length; i++) {
    let x = rng.next() * total;
    let chosen = templates[templates.length - 1];
    for (const t of templates) {
      x -= t.weight;
      if (x < 0) {
        chosen = t;
        break;
      }
    }
    out.push(chosen.make(rng));
  }
  return out;
}

/** What {@link shrink} found. */
export interface Shrunk<T> {
  /** The smallest failing sequence found (the input if nothing could be dropped). */
  items: T[];
  /** How many candidate sequences were tried. */
  runs: number;
  /** True if the budget ran out before no single item could be dropped. */
  exhausted: boolean;
}

/**
 * Drops items from a failing sequence while `fails` says it still fails:
 * first chunks of half the length, then smaller chunks down to single items
 * (delta debugging without the complement step), until no single item can be
 * dropped or the budget is spent. `fails` must be deterministic for the
 * result to be minimal.
 */
export async function shrink<T>(
  items: readonly T[],
  fails: (candidate: T[]) => Promise<boolean>,
  budget: { maxRuns: number; deadlineMs: number },
): Promise<Shrunk<T>> {
  let current = [...items];
  let runs = 0;
  const spent = () => runs >= budget.maxRuns || Date.now() > budget.deadlineMs;
  let chunk = Math.max(1, Math.floor(current.length / 2));
  while (current.length > 0) {
    let dropped = false;
    for (let at = 0; at < current.length;) {
      if (spent()) return { items: current, runs, exhausted: true };
      const candidate = [...current.slice(0, at), ...current.slice(at + chunk)];
      runs++;
      if (await fails(candidate)) {
        current = candidate;
        dropped = true;
      } else {
        at += chunk;
      }
    }
    if (chunk === 1 && !dropped) break;
    chunk = Math.max(1, Math.floor(chunk / 2));
  }
  return { items: current, runs, exhausted: false };
}
