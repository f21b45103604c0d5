/**
 * The prototype's key table: kvdb's layout (see src/storage/key_table.ts:
 * open addressing over `[mixed hash, entry]` Int32 slot pairs, load ≤ 3/4,
 * key and value bytes in an arena) cut into `stripes` independent
 * sub-tables — kvdb's partitions — each with its own lock word, slots and
 * arena, all in one buffer. Over a `SharedArrayBuffer` with `locked` it is
 * variant B's table that every worker probes; over a plain `ArrayBuffer`
 * without locks it is one worker's own table (variant A, and the
 * single-threaded baseline), so the two variants differ only by what the
 * measurement is about.
 *
 * A prototype: fixed capacity (a full stripe refuses new keys), no
 * deletion, no compaction, GET and SET only. Keys and values are compared
 * and copied as bytes straight between request, arena and reply buffers.
 *
 * Per stripe:
 *
 *     header  16 Int32 (one 64-byte cache line, so that two stripes' lock
 *             words never share a line): [lock, keys, arena bytes used]
 *     slots   Int32 pairs [mixed hash, arena offset / 8 + 1] (0 = empty)
 *     arena   entries [key length, value length, room] (3 Int32), key,
 *             value, padded to 8 bytes
 *
 * @example
 * ```ts
 * const layout = { stripes: 16, slotsPerStripe: 1024, arenaBytesPerStripe: 65536 };
 * const table = new ProtoTable(new SharedArrayBuffer(tableBytes(layout)), layout, true);
 * const key = new TextEncoder().encode("k");
 * table.set(key, 0, 1, hashBytes(key, 0, 1), new TextEncoder().encode("v"), 0, 1);
 * ```
 * @module
 */

import { lock, unlock } from "./_lock.ts";
import { CRLF, NIL, type Replies } from "./_resp.ts";

/** The shape of a table: all three must be powers of two except the arena. */
export interface TableLayout {
  stripes: number;
  slotsPerStripe: number;
  arenaBytesPerStripe: number;
}

const HEADER_INTS = 16;
const LOCK = 0;
const KEYS = 1;
const ARENA_USED = 2;
const ENTRY_HEADER_BYTES = 12;

/**
 * Bytes a table of `layout` takes.
 *
 * @example
 * ```ts
 * new SharedArrayBuffer(tableBytes(layout));
 * ```
 */
export function tableBytes(layout: TableLayout): number {
  return layout.stripes *
    (HEADER_INTS * 4 + layout.slotsPerStripe * 8 + layout.arenaBytesPerStripe);
}

/**
 * FNV-1a over `bytes[start..end)` with a final avalanche (kvdb's `fnv1a`
 * then `mix`), so that both the stripe (high bits) and the slot (low bits)
 * are well spread.
 *
 * @example
 * ```ts
 * hashBytes(new Uint8Array([97]), 0, 1); // the same number every run
 * ```
 */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

function roundUp8(bytes: number): number {
  return (bytes + 7) & ~7;
}

/** A striped open-addressing table over one buffer, shared or not. */
export class ProtoTable {
  readonly #headers: Int32Array;
  readonly #slots: Int32Array;
  readonly #arenaBytes: Uint8Array;
  readonly #arenaInts: Int32Array;
  readonly #stripeMask: number;
  readonly #stripeShift: number;
  readonly #slotMask: number;
  readonly #slotsPerStripe: number;
  readonly #arenaPerStripe: number;
  readonly #maxKeys: number;
  readonly #locked: boolean;

  /**
   * @param buffer {@link tableBytes} bytes, zeroed (a new buffer is) or
   *   already holding a table of the same layout (another worker's view).
   * @param locked whether each operation takes its stripe's lock (needed
   *   when several threads use the buffer).
   */
  constructor(buffer: ArrayBufferLike, layout: TableLayout, locked: boolean) {
    const { stripes, slotsPerStripe, arenaBytesPerStripe } = layout;
    const powerOfTwo = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
    if (!powerOfTwo(stripes) || !powerOfTwo(slotsPerStripe) || arenaBytesPerStripe % 8 !== 0) {
      throw new RangeError("stripes and slots must be powers of two, arena bytes a multiple of 8");
    }
    if (buffer.byteLength !== tableBytes(layout)) throw new RangeError("buffer of the wrong size");
    const headerBytes = stripes * HEADER_INTS * 4;
    const slotBytes = stripes * slotsPerStripe * 8;
    this.#headers = new Int32Array(buffer, 0, stripes * HEADER_INTS);
    this.#slots = new Int32Array(buffer, headerBytes, stripes * slotsPerStripe * 2);
    this.#arenaBytes = new Uint8Array(buffer, headerBytes + slotBytes);
    this.#arenaInts = new Int32Array(buffer, headerBytes + slotBytes);
    this.#stripeMask = stripes - 1;
    this.#stripeShift = 32 - Math.log2(stripes);
    this.#slotMask = slotsPerStripe - 1;
    this.#slotsPerStripe = slotsPerStripe;
    this.#arenaPerStripe = arenaBytesPerStripe;
    this.#maxKeys = (slotsPerStripe * 3) >>> 2;
    this.#locked = locked;
  }

  /** Keys in the table (a racy sum when shared: for tests and reports). */
  get size(): number {
    let keys = 0;
    for (let at = KEYS; at < this.#headers.length; at += HEADER_INTS) keys += this.#headers[at];
    return keys;
  }

  /**
   * Appends the value of the key `bytes[start..end)` (hash `hash`) to
   * `out` as a RESP bulk string, or a nil.
   */
  get(bytes: Uint8Array, start: number, end: number, hash: number, out: Replies): void {
    const stripe = (hash >>> this.#stripeShift) & this.#stripeMask;
    const lockAt = stripe * HEADER_INTS + LOCK;
    if (this.#locked) lock(this.#headers, lockAt);
    const slot = this.#find(stripe, bytes, start, end, hash);
    if (slot < 0) {
      if (this.#locked) unlock(this.#headers, lockAt);
      out.write(NIL);
      return;
    }
    const offset = this.#offsetOf(stripe, slot);
    const keyLength = this.#arenaInts[offset >>> 2];
    const valueLength = this.#arenaInts[(offset >>> 2) + 1];
    out.writeBulkHeader(valueLength);
    out.reserve(valueLength + 2);
    const from = offset + ENTRY_HEADER_BYTES + keyLength;
    out.bytes.set(this.#arenaBytes.subarray(from, from + valueLength), out.length);
    if (this.#locked) unlock(this.#headers, lockAt);
    out.length += valueLength;
    out.write(CRLF);
  }

  /**
   * Sets the key `bytes[start..end)` (hash `hash`) to
   * `value[valueStart..valueEnd)`: false if its stripe is full.
   */
  set(
    bytes: Uint8Array,
    start: number,
    end: number,
    hash: number,
    value: Uint8Array,
    valueStart: number,
    valueEnd: number,
  ): boolean {
    const stripe = (hash >>> this.#stripeShift) & this.#stripeMask;
    const header = stripe * HEADER_INTS;
    if (this.#locked) lock(this.#headers, header + LOCK);
    const done = this.#setLocked(
      stripe,
      header,
      bytes,
      start,
      end,
      hash,
      value,
      valueStart,
      valueEnd,
    );
    if (this.#locked) unlock(this.#headers, header + LOCK);
    return done;
  }

  #setLocked(
    stripe: number,
    header: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    hash: number,
    value: Uint8Array,
    valueStart: number,
    valueEnd: number,
  ): boolean {
    const keyLength = end - start;
    const valueLength = valueEnd - valueStart;
    const need = roundUp8(ENTRY_HEADER_BYTES + keyLength + valueLength);
    const slot = this.#find(stripe, bytes, start, end, hash);
    const ints = this.#arenaInts;
    if (slot >= 0) {
      const offset = this.#offsetOf(stripe, slot);
      if (need <= ints[(offset >>> 2) + 2]) {
        ints[(offset >>> 2) + 1] = valueLength;
        this.#arenaBytes.set(
          value.subarray(valueStart, valueEnd),
          offset + ENTRY_HEADER_BYTES + keyLength,
        );
        return true;
      }
    } else if (this.#headers[header + KEYS] >= this.#maxKeys) {
      return false;
    }
    // A new entry (an overwrite that outgrew its room leaves dead bytes).
    const used = this.#headers[header + ARENA_USED];
    if (used + need > this.#arenaPerStripe) return false;
    const offset = stripe * this.#arenaPerStripe + used;
    this.#headers[header + ARENA_USED] = used + need;
    ints[offset >>> 2] = keyLength;
    ints[(offset >>> 2) + 1] = valueLength;
    ints[(offset >>> 2) + 2] = need;
    this.#arenaBytes.set(bytes.subarray(start, end), offset + ENTRY_HEADER_BYTES);
    this.#arenaBytes.set(
      value.subarray(valueStart, valueEnd),
      offset + ENTRY_HEADER_BYTES + keyLength,
    );
    const at = slot >= 0 ? slot : ~slot;
    this.#slots[2 * at] = hash | 0;
    this.#slots[2 * at + 1] = (offset - stripe * this.#arenaPerStripe) / 8 + 1;
    if (slot < 0) this.#headers[header + KEYS]++;
    return true;
  }

  /** The arena offset (from the arena's start) of the entry in `slot`. */
  #offsetOf(stripe: number, slot: number): number {
    return stripe * this.#arenaPerStripe + (this.#slots[2 * slot + 1] - 1) * 8;
  }

  /** The slot (absolute) holding the key, or `~slot` of the empty one where it would go. */
  #find(stripe: number, bytes: Uint8Array, start: number, end: number, hash: number): number {
    const slots = this.#slots;
    const base = stripe * this.#slotsPerStripe;
    const mask = this.#slotMask;
    const stored = hash | 0;
    let index = hash & mask;
    for (;;) {
      const slot = base + index;
      const entry = slots[2 * slot + 1];
      if (entry === 0) return ~slot;
      if (slots[2 * slot] === stored && this.#keyEquals(stripe, entry, bytes, start, end)) {
        return slot;
      }
      index = (index + 1) & mask;
    }
  }

  #keyEquals(
    stripe: number,
    entry: number,
    bytes: Uint8Array,
    start: number,
    end: number,
  ): boolean {
    const offset = stripe * this.#arenaPerStripe + (entry - 1) * 8;
    const length = end - start;
    if (this.#arenaInts[offset >>> 2] !== length) return false;
    const arena = this.#arenaBytes;
    const from = offset + ENTRY_HEADER_BYTES - start;
    for (let i = start; i < end; i++) {
      if (arena[from + i] !== bytes[i]) return false;
    }
    return true;
  }
}
