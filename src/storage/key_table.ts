/**
 * One partition's keys and values, stored off the JavaScript heap: an
 * open-addressing hash table over typed arrays, entries of four ints in
 * one typed array, and the key and value bytes in one byte arena.
 *
 * Why not a `Map<string, string>`: with 100k–1M keys a Map lookup costs ~4
 * cache misses (bucket, entry, key string, value string) and every key and
 * value is a heap object the garbage collector marks; this table costs ~2
 * (slot, entry, arena bytes), and a million keys are a handful of buffers.
 * PERF_NOTES measured 2–3× less time per GET/SET, and full major GCs over a
 * heap of a million strings were the worst pauses during snapshots.
 *
 * Layout:
 *
 *     slots    Int32Array, one word per slot: the top 6 bits of the
 *              key's mixed hash (a tag: most probes past other keys cost
 *              no read of their entry) over entry index + 1 in the low 26
 *              bits (0 = empty); linear probing; a deletion leaves a
 *              tombstone unless the slot after it is empty; keys and
 *              tombstones together at most 3/4 of the slots, then the
 *              slots are rebuilt (twice as many when the keys alone pass
 *              half), a few at a time (below). The full hash is not kept: a
 *              rebuild hashes the keys again from their arena bytes
 *              ({@link fnv1aBytes}), so a caller's hash must be
 *              {@link fnv1a} of the key (or the table's `hashKey`).
 *              Half the memory of [hash, entry] pairs: 8 MiB less for 1M keys in 16 partitions. Tombstones, not
 *              the shift-back of later keys, because a shift needs each
 *              later key's home slot, so its hash, so two reads from
 *              memory and a hash per key moved (measured in-process, 1M
 *              keys: a delete took 230 ns with whole hashes in the slots,
 *              520 ns shifting back over one-word slots, 190 ns with
 *              tombstones).
 *     entries  Int32Array, 4 per entry: [arena offset, key length (-1 =
 *              free entry, chained through `offset`), value length (-1 =
 *              the value is an object, see below), room (bytes reserved in
 *              the arena, a multiple of 8)] — one
 *              16-byte block, so a lookup misses the cache once for them,
 *              not once per field as with parallel arrays (measured, A/B of
 *              7 rounds: user CPU per request 4.87 → 4.40 µs for durable SET
 *              at 50 clients, 0.90 → 0.81 µs for SET at pipeline 16).
 *     arena    Uint8Array of [key bytes][value bytes] per entry; an
 *              entry's offset has bit 30 set or not by the arena holding
 *              it (below), so an arena holds at most 1 GiB.
 *     objects  a sparse array by entry index of the values that are not
 *              inline bytes (large strings, collections): the arena then
 *              holds only the key.
 *     meta     Uint32Array, 1 per entry: bits 0–23 the access clock (Redis's
 *              LRU clock: seconds, wrapping at 2^24) — or, while an LFU
 *              maxmemory policy is set, Redis's LFU word instead (see
 *              `memory/lfu.ts`; Redis reuses the same 24 bits) —, bits 24–26 hints of
 *              how Redis would encode the value (see {@link EncodingHint}),
 *              bits 27–29 the type of an inline value that is not a string
 *              (0: a string; else a small collection's packed bytes, see
 *              {@link KeyTable.setPacked}), bit 30 set when the key has
 *              an expiry time (below). Read on each lookup, written
 *              only when the clock moved: one store a second per hot key.
 *     expiry   Float64Array, 1 per entry, made at the table's first
 *              expiry: the key's expiry time in Unix ms, 0 for none (see
 *              `_expiry_column.ts` for why not a Map of keys).
 *
 * An entry keeps its index for the key's whole life (overwrites only move
 * bytes), so walking entry indices is a stable cursor: a key present for a
 * whole walk is visited exactly once, whatever else changes meanwhile
 * (SCAN's guarantee, and what snapshots need). Overwrites that outgrow
 * their room leave dead bytes. Keys and values are binary strings (char
 * codes 0..255).
 *
 * Nothing is resized in one step, as Redis rehashes its dicts a bucket at a
 * time. One step re-placed a partition's every key, or copied its every
 * byte, while the event loop waited: in-process, 3M keys in 16 partitions
 * (187k keys, 8 MB of arena each), a slot rebuild took 30–39 ms, a
 * compaction (sort by offset, copy down) 33 ms, growing the arena 15 ms.
 * Now:
 *
 * - A slot rebuild makes the new slots, which take every new key at once,
 *   and moves the old slots' keys over {@link DRAIN_STEP_SLOTS} slots per
 *   lookup; a lookup that misses in the new slots probes the old ones
 *   until they are empty. A step ends only at an empty old slot, and the
 *   sweep starts at one, so a probe run is never half moved and a key
 *   still in the old slots is found by the usual probe there. A rebuild
 *   leaves the new slots at most half full and the next one comes after a
 *   quarter of them in inserts (each one a lookup first; deletes only
 *   turn keys into tombstones), while the sweep of the old ones (at most
 *   as many) ends after 1/64 of them.
 * - A full arena is not compacted or grown but replaced: a fresh one, of
 *   1.5 times the old one's live bytes, takes every allocation, with room kept for the old one's live rooms; each lookup
 *   moves the rooms of {@link MIGRATION_STEP_ENTRIES} more entries, walked
 *   by index, out of the old one, and each allocation at least twice its
 *   own bytes, so the kept room (half the live bytes) cannot run out
 *   before the walk ends however big the writes; the old arena is freed
 *   when it does. Bit 30 of an offset says which arena holds it (the
 *   current arena's bit flips at each migration, so no offset is
 *   rewritten when one starts), which is what an arena read checks. The
 *   same scheme as `types/migrating_arena.ts`, not that class: its arena
 *   is in pages, a lookup here reads one contiguous array.
 *
 * Steps come with lookups, not only with writes, so that a table only read
 * after it grew does not probe two slot arrays for long: measured
 * in-process with steps on writes only, GET of 100k keys that had just
 * grown took 405 instead of 313 ns, the drain stuck half done.
 *
 * @example
 * ```ts
 * const table = new KeyTable();
 * const hash = fnv1a("k");
 * table.set("k", hash, "v");
 * table.get("k", hash); // "v"
 * ```
 * @module
 */

import { ExpiryColumn } from "./_expiry_column.ts";
import { arenaGrowth } from "./arena_growth.ts";
import { assert } from "../_assert.ts";
import { bytesToBinary, writeBinary } from "../bytes/binary_string.ts";
import { decimalLength, writeDecimal } from "../bytes/decimal.ts";
import { ReadyArray } from "../bytes/ready_array.ts";
import { unpackCollection } from "../types/registry.ts";
import { fnv1aBytes } from "./hash.ts";
import { lfuNewWord, lfuTouched } from "../memory/lfu.ts";

const INITIAL_SLOTS = 16;
const INITIAL_ENTRIES = 8;
const INITIAL_ARENA_BYTES = 1024;
/** Old slots a rebuild moves per lookup (and the rest of the last probe run). */
const DRAIN_STEP_SLOTS = 64;
/** Entries whose rooms an arena migration moves per lookup. */
const MIGRATION_STEP_ENTRIES = 64;
/**
 * An arena up to this long is migrated in one step (a copy of at most 64
 * KiB): a small table does not keep two arenas for long.
 */
const ONE_STEP_ARENA_BYTES = 64 * 1024;
/**
 * Entries from which the entry arrays' successors are made ahead and
 * written into as the last 1/2^{@link READY_WINDOW_SHIFT} fills (see
 * `ready_array.ts`); a smaller table's copy (≤ 128 KiB) takes well under a
 * millisecond.
 */
const READY_MIN_ENTRIES = 8192;
/**
 * The successors are made ready over the last 1/32 of the inserts before a
 * doubling, 32 entries' worth an insert (at most a page fault in each of
 * the two arrays an insert):
 * they hold resident memory beside the arrays they replace only then, so a
 * table whose size stays put rarely pays for them (a window of a quarter
 * would hold 20 bytes a key more for a quarter of the sizes).
 */
const READY_WINDOW_SHIFT = 5;
/** Rooms up to this long are moved byte by byte, longer ones with `set` (a view costs more). */
const SHORT_COPY_BYTES = 64;
/** The bit of an arena offset that says which of two arenas holds it. */
const ARENA_TAG = 0x4000_0000;
const UNTAG = ARENA_TAG - 1;
/**
 * The share of its live bytes a fresh arena keeps free (see
 * `arena_growth.ts`): 1/2, not the default 1, because a cache under
 * eviction replaces its arenas all the time and its RSS is judged against
 * maxmemory (measured: README "Memory").
 */
const FRESH_ARENA_SPARE = 0.5;
/**
 * Arena bytes per live byte under churn: an arena is replaced by one of 1.5
 * times its live bytes and refills with dead ones until replaced again,
 * so its length stays near 1 + {@link FRESH_ARENA_SPARE} times them (between
 * 1.33 and 1.875). Memory accounting charges each live byte this much.
 */
export const ARENA_BYTES_PER_LIVE_BYTE = 1 + FRESH_ARENA_SPARE;
/**
 * A value that outgrows its room moves to one a quarter (1/2^shift) bigger
 * than it needs: a value that grew once (an inline set or hash taking
 * members one command at a time, APPEND) likely grows again, and each move
 * leaves its old room dead until the arena is replaced.
 * Measured with redis-benchmark -P 16 -r 100000, SADD of 10 members to
 * 100k sets held inline (two runs of 500k requests, the sets growing to
 * ~50 then ~100 members): a write there took 15–30 µs in the key table,
 * compactions a third of it; with the slack 3 µs, and the second run went
 * from 25k to 46k requests/s.
 */
const GROWN_SLACK_SHIFT = 2;
/** A slot word's low bits: entry index + 1. */
const ENTRY_BITS = 26;
const ENTRY_MASK = (1 << ENTRY_BITS) - 1;
/** The slot word of a deleted key (no entry has this index). */
const TOMBSTONE = ENTRY_MASK;
/**
 * A rebuild hashes every key's bytes again, and one comes at most once per
 * a quarter of the slots deleted: with at least one slot per this many
 * bytes of keys, a delete costs at most ~1 KiB of hashing, however long the
 * keys (a few 1 MiB keys in a small table under churn otherwise made a
 * rebuild every few deletes, measured 170 µs a delete with six).
 */
const MAX_KEY_BYTES_PER_SLOT = 256;
/**
 * Entries a table holds at most (entry index + 1 fits its slot bits): 67M
 * keys a partition, so 1G keys with the default 16 partitions.
 */
export const MAX_TABLE_ENTRIES = ENTRY_MASK - 1;
/** Int32 fields per entry, and where each is. */
const ENTRY_INTS = 4;
/** Arena offset of the key; for a free entry, the next free entry (or -1). */
const OFFSET = 0;
/** -1 marks a free entry. */
const KEY_LENGTH = 1;
const VALUE_LENGTH = 2;
/** Bytes reserved in the arena, a multiple of 8 (0 once freed). */
const ROOM = 3;
/** VALUE_LENGTH of an entry whose value is in `#objects`. */
const OBJECT_VALUE = -1;
/** The access clock's bits in an entry's meta word. */
const CLOCK_MASK = 0xffffff;
/** Where the encoding hints sit in the meta word. */
const HINT_SHIFT = 24;
const HINT_MASK = 7 << HINT_SHIFT;
/** Where an inline value's type sits in the meta word (0: a string). */
const TYPE_SHIFT = 27;
const TYPE_MASK = 7 << TYPE_SHIFT;
/**
 * Meta bit 30: the entry has an expiry time in the expiry column. A key
 * without one is answered from the meta word the lookup reads anyway,
 * without touching the column (a cache miss per read: 550k → 680k GET/s at
 * pipeline 16 when other keys of the table have a TTL).
 */
const EXPIRY_BIT = 1 << 30;
/**
 * What a key costs besides its arena bytes, for memory accounting: its
 * 16-byte entry and 4-byte meta word, its slot (4 bytes at a load of
 * 3/8 to 3/4: ~8), and the spare capacity of arrays grown by doubling
 * (~1/4 on average). An estimate, like the rest of `used_memory`.
 */
export const KEY_OVERHEAD_BYTES = 40;

/**
 * How Redis would encode a string value beyond what its bytes say (OBJECT
 * ENCODING, REFCOUNT): `Raw` — written in place (APPEND, SETRANGE,
 * SETBIT...), so `raw` whatever its length; `NotInt` — made as text
 * (INCRBYFLOAT), so never `int` even when it reads as an integer;
 * `Unshared` — a copy (COPY), so never one of Redis's shared small integers.
 *
 * @example
 * ```ts
 * table.set("k", hash, "10", EncodingHint.NotInt);
 * ```
 */
export const EncodingHint = { None: 0, Raw: 1, NotInt: 2, Unshared: 4 } as const;

/**
 * The access clock stamped on entries as they are used: seconds, 24 bits
 * (Redis's LRU clock), moved on by {@link setAccessClock}.
 */
let accessClock = Math.floor(Date.now() / 1000) & CLOCK_MASK;
/** The time the access clock was last moved to, Unix ms (the LFU clock's minutes). */
let clockMs = Date.now();
/** Whether access words hold LFU counters rather than the LRU clock. */
let lfuTracking = false;
let lfuLogFactor = 10;
let lfuDecayMinutes = 1;

/**
 * Chooses what keys' access words track (the maxmemory policy does): the
 * LRU clock, or Redis's LFU counter with its `lfu-log-factor` and
 * `lfu-decay-time` (minutes). As in Redis, words stamped under the other
 * mode are read as they are until keys are used again.
 *
 * @example
 * ```ts
 * setAccessTracking(true, 10, 1); // allkeys-lfu
 * ```
 */
export function setAccessTracking(lfu: boolean, logFactor: number, decayMinutes: number): void {
  lfuTracking = lfu;
  lfuLogFactor = logFactor;
  lfuDecayMinutes = decayMinutes;
}

/**
 * The time the access clock stands at, Unix ms (moved by
 * {@link setAccessClock}).
 *
 * @example
 * ```ts
 * lfuCounter(word, accessClockMs(), 1);
 * ```
 */
export function accessClockMs(): number {
  return clockMs;
}

/**
 * Moves the access clock to `nowMs` (a server tick does, ten times a
 * second, as Redis's serverCron updates its LRU clock).
 *
 * @example
 * ```ts
 * setAccessClock(Date.now());
 * ```
 */
export function setAccessClock(nowMs: number): void {
  accessClock = Math.floor(nowMs / 1000) & CLOCK_MASK;
  clockMs = nowMs;
}

/**
 * The command being run, moved on by {@link beginCommand}: an LFU counter
 * is bumped at most once a command, as Redis bumps it at the command's
 * lookup of the key (its overwrite keeps the counter). INCR read its key
 * and wrote it back, two bumps; SADD of a small set three.
 */
let commandNumber = 0;

/**
 * Says that a new command starts: its first use of a key bumps the key's
 * LFU counter, later ones in it do not (see {@link KeyTable}'s stamps).
 *
 * @example
 * ```ts
 * beginCommand();
 * ```
 */
export function beginCommand(): void {
  commandNumber++;
  if (retiring.length !== 0) {
    for (const table of retiring) table.releaseRetired();
    retiring.length = 0;
  }
}

/**
 * The tables holding an arena a migration finished with (a table is here
 * while its `#retiredArena` is set: the list is bounded by the tables,
 * not the migrations, as a replica's or a replay's writes run no command).
 * The arena is freed when the next command begins ({@link beginCommand}),
 * or at the same table's next migration end, not at once. A reader of a
 * small collection's packed bytes (`PackedSet`...) keeps a view of the
 * arena it was read from, valid until the keyspace next changes; a later
 * lookup in the same command (the next key of SINTER a b, or an expiry
 * check) moves the migration on and can end it, and freeing the arena then
 * left the reader on detached, empty bytes: SINTER a b answered "Index out
 * of range", or nothing. A command reads before it writes, and a table starts a
 * migration only at a write: so no reader holds an arena its table
 * retired at an earlier migration end.
 */
const retiring: KeyTable[] = [];

/** Frees `buffer`'s bytes now (detaching it), unless that was done. */
function release(buffer: ArrayBuffer): void {
  if (!(buffer as ArrayBuffer & { readonly detached: boolean }).detached) buffer.transfer(0);
}

/** An access word after one more use: the clock, or the LFU counter bumped. */
function touchedWord(word: number): number {
  return lfuTracking
    ? lfuTouched(word, clockMs, lfuLogFactor, lfuDecayMinutes, Math.random())
    : accessClock;
}

/**
 * Seconds since an entry stamped at `clock` was last used, as Redis
 * estimates idle time (the clock wraps every 194 days).
 *
 * @example
 * ```ts
 * idleSeconds(table.accessedAt(entry)); // 0 right after a GET
 * ```
 */
export function idleSeconds(clock: number): number {
  return accessClock >= clock ? accessClock - clock : accessClock + (CLOCK_MASK + 1) - clock;
}
/**
 * One partition's arena holds at most this many bytes (the largest
 * multiple of 8 below 1 GiB): an offset's bit 30 names its arena (see the
 * module doc).
 *
 * @example
 * ```ts
 * new KeyTable().hasRoomFor(MAX_ARENA_BYTES + 1); // false
 * ```
 */
export const MAX_ARENA_BYTES = 0x3fff_fff8;

/** murmur3's finaliser: spreads FNV's low bits over the whole word. */
function mix(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function roundUp8(bytes: number): number {
  return (bytes + 7) & ~7;
}

/**
 * A running total of what tables cost (their {@link KeyTable.accountedBytes}
 * summed), kept up to date by each change: one engine's tables share one,
 * so memory accounting reads a number instead of summing partitions on
 * every write (see src/memory).
 *
 * @example
 * ```ts
 * const meter = new MemoryMeter();
 * new KeyTable(MAX_ARENA_BYTES, meter).set("k", fnv1a("k"), "v");
 * meter.bytes; // > 0
 * ```
 */
export class MemoryMeter {
  bytes = 0;
}

/**
 * A value kept as an object rather than inline bytes. `toString()` gives
 * its bytes as a binary string where that means something (a large string).
 */
export type TableObject = object;

/** `length` bytes of `bytes` from `start`: where a value lies (see {@link KeyTable.stringBytes}). */
export interface ByteRange {
  bytes: Uint8Array;
  start: number;
  length: number;
}

/**
 * A hash table of binary-string keys to values — binary strings held inline,
 * or objects — for one partition. Callers pass the key's 32-bit hash (the
 * engine computes it once per key to pick the partition too).
 *
 * @example
 * ```ts
 * const table = new KeyTable();
 * table.set("a", fnv1a("a"), "x");
 * for (let i = table.nextEntry(0); i >= 0; i = table.nextEntry(i + 1)) {
 *   table.keyAt(i); // "a"
 * }
 * ```
 */
export class KeyTable {
  readonly #maxArenaBytes: number;
  readonly #meter: MemoryMeter;
  readonly #hashKey: (bytes: Uint8Array, start: number, end: number) => number;
  // Set by clear(), which the constructor calls: one place sets the empty state.
  #slots!: Int32Array;
  #mask!: number;
  #size!: number;
  /** Slots holding {@link TOMBSTONE} (in `#slots`; the old slots' are not counted). */
  #tombstones!: number;
  /** The slots a rebuild is draining (see the module doc), or undefined. */
  #oldSlots!: Int32Array | undefined;
  #oldMask!: number;
  /** Keys still in the old slots. */
  #oldKeys!: number;
  /** The next old slot the drain sweeps, and how many it has left. */
  #sweepAt!: number;
  #sweepLeft!: number;
  /** The live keys' bytes (what a rebuild hashes). */
  #keyBytes!: number;

  /** `ENTRY_INTS` per entry: see the module doc. */
  #entries!: Int32Array;
  /** Entry indices ever used: [0, #entryEnd). */
  #entryEnd!: number;
  /** Head of the free-entry chain, or -1. */
  #freeEntry!: number;
  /** The entry arrays' successors, made ready as they fill (see {@link #newEntry}). */
  readonly #nextEntries = new ReadyArray<Int32Array>();
  readonly #nextMeta = new ReadyArray<Uint32Array>();

  /** The arena new rooms go to; its offsets' bit 30 is `#arenaTag`. */
  #arena!: Uint8Array;
  #arenaTag!: number;
  #arenaUsed!: number;
  #deadBytes!: number;
  /** The arena a migration is emptying (see the module doc), or undefined. */
  #oldArena!: Uint8Array | undefined;
  /** The arena the last migration emptied, until freed (see `retiring`). */
  #retiredArena: ArrayBuffer | undefined = undefined;
  /** Bytes of live rooms still in the old arena, and its bytes in use. */
  #oldLiveBytes!: number;
  #oldUsedBytes!: number;
  /** The next entry whose room the migration moves. */
  #migrateAt!: number;
  /** Whether old slots or an old arena are left (one check on each lookup). */
  #resizing!: boolean;
  /** Object values by entry index (holes for inline values). */
  #objects!: (TableObject | undefined)[];
  /** Per entry: access clock and the raw mark (see the module doc). */
  #meta!: Uint32Array;
  /** Entries whose value is an object. */
  #objectCount!: number;
  /** Expiry times by entry index, made at the first one (see `_expiry_column.ts`). */
  #expiry!: ExpiryColumn | undefined;
  /** What each object value was charged (see {@link setObject}), by entry index. */
  #objectCosts!: number[];
  /** The sum of {@link #objectCosts}. */
  #objectBytes!: number;
  /**
   * The last key {@link #find} found, its entry and its slot: a command
   * that reads a key and then writes it (INCR, HSET, SADD...) finds it
   * once. Forgotten whenever slots change under it (a delete, a rebuild or
   * a step of one, clear).
   */
  #lastKey: string | undefined = undefined;
  #lastHash = 0;
  #lastEntry = -1;
  /** The entry whose LFU counter the command numbered `#stampedCommand` bumped last. */
  #stampedEntry = -1;
  #stampedCommand = -1;
  #lastSlot = -1;
  /**
   * Where {@link #find} found its key: a slot of `#slots` (≥ 0), or
   * `-2 - slot` for one of the old slots (see {@link #removeSlot}).
   */
  #foundSlot = -1;

  /**
   * @param maxArenaBytes bytes of keys and values the arena may hold, at
   *   most {@link MAX_ARENA_BYTES} (tests use small limits).
   * @param meter the running total this table adds its cost to.
   * @param hashKey the hash callers give for a key, from its bytes (tests
   *   choose colliding ones).
   */
  constructor(
    maxArenaBytes = MAX_ARENA_BYTES,
    meter = new MemoryMeter(),
    hashKey: (bytes: Uint8Array, start: number, end: number) => number = fnv1aBytes,
  ) {
    this.#meter = meter;
    this.#hashKey = hashKey;
    assert(
      Number.isSafeInteger(maxArenaBytes) && maxArenaBytes > 0 &&
        maxArenaBytes <= MAX_ARENA_BYTES &&
        maxArenaBytes % 8 === 0,
      `maxArenaBytes must be a positive multiple of 8 up to ${MAX_ARENA_BYTES}`,
    );
    this.#maxArenaBytes = maxArenaBytes;
    this.#reset();
  }

  /** Live keys. */
  get size(): number {
    return this.#size;
  }

  /** Slots of the hash table, old ones a rebuild still drains included (for memory reporting). */
  get slotCount(): number {
    return this.#mask + 1 + (this.#oldSlots === undefined ? 0 : this.#oldMask + 1);
  }

  /** Arena bytes in use, dead ones and a migrating old arena's included (for memory reporting). */
  get arenaBytes(): number {
    return this.#arenaUsed + this.#oldUsedBytes;
  }

  /** The arenas' length: bytes held for keys and values, free and dead ones included. */
  get arenaCapacity(): number {
    return this.#arena.length + (this.#oldArena?.length ?? 0);
  }

  /** Whether a slot rebuild or an arena migration is under way (tests watch them end). */
  get resizing(): boolean {
    return this.#resizing;
  }

  #updateResizing(): void {
    this.#resizing = this.#oldSlots !== undefined || this.#oldArena !== undefined;
  }

  /**
   * What this table's keys and values cost, estimated in O(1) for
   * `used_memory`: live arena bytes times what an arena holds per live
   * byte once writes churn ({@link ARENA_BYTES_PER_LIVE_BYTE}), plus
   * {@link KEY_OVERHEAD_BYTES} per key and what object values were
   * charged. Live bytes, not the arena's length: evicting a key must lower
   * the figure at once.
   */
  get accountedBytes(): number {
    return this.#liveArenaBytes() * ARENA_BYTES_PER_LIVE_BYTE +
      this.#size * KEY_OVERHEAD_BYTES + this.#objectBytes;
  }

  /**
   * Whether a new entry of `bytes` key and value bytes fits under the
   * arena limit (checked before a write is logged, so a full
   * partition refuses it instead of failing after).
   */
  hasRoomFor(bytes: number): boolean {
    // + 7 for the rounding to 8 (not masked: `bytes` may exceed int32 here).
    return this.#liveArenaBytes() + bytes + 7 <= this.#maxArenaBytes && !this.#entriesFull();
  }

  /** Bytes of live rooms, in both arenas while migrating. */
  #liveArenaBytes(): number {
    return this.#arenaUsed - this.#deadBytes + this.#oldLiveBytes;
  }

  /**
   * Prefetching, step 1 of 3: the entry of the first key in `hash`'s probe
   * run whose slot tag matches (almost always the key's), or -1.
   * A lookup follows a chain of three reads (slot, entry, arena), each a
   * likely cache miss that waits for the one before; taking one step for
   * many keys before the next ({@link entryOffset}, then
   * {@link arenaByte}) issues their misses together. The run is probed as
   * the lookup will (mostly one cache line), not only the home slot read:
   * a key that sits past another's prefetched the other's entry
   * (redis-benchmark -P 16 -r 100000 INCR over 100k counters, A/B of 8
   * alternating rounds: median CPU per request 1.55 -> 1.47 us).
   * Changes nothing.
   */
  probeEntry(hash: number): number {
    const mixed = mix(hash);
    const tag = mixed >>> ENTRY_BITS;
    const slots = this.#slots;
    const mask = this.#mask;
    for (let slot = mixed & mask;; slot = (slot + 1) & mask) {
      const word = slots[slot];
      if (word === 0) break;
      if (word !== TOMBSTONE && word >>> ENTRY_BITS === tag) return (word & ENTRY_MASK) - 1;
    }
    if (this.#oldSlots === undefined) return -1;
    const word = this.#oldSlots[mixed & this.#oldMask];
    return word === 0 || word === TOMBSTONE ? -1 : (word & ENTRY_MASK) - 1;
  }

  /** Prefetching, step 2 of 3: the arena offset of `entry` (-1 for none). */
  entryOffset(entry: number): number {
    return entry < 0 ? -1 : this.#entries[entry * ENTRY_INTS + OFFSET];
  }

  /** Prefetching, step 3 of 3: the arena byte at `offset` (0 for none). */
  arenaByte(offset: number): number {
    // A free entry's offset field chains free entries: it may be -1, or
    // name an arena that is gone.
    if (offset < 0) return 0;
    const arena = this.#inCurrentArena(offset) ? this.#arena : this.#oldArena;
    const at = offset & UNTAG;
    return arena === undefined || at >= arena.length ? 0 : arena[at];
  }

  /** The arena holding tagged offset `offset` (see the module doc). */
  #arenaOf(offset: number): Uint8Array {
    return this.#inCurrentArena(offset) ? this.#arena : this.#oldArena!;
  }

  /** Whether tagged offset `offset` is in the current arena (else in the old one). */
  #inCurrentArena(offset: number): boolean {
    return (offset & ARENA_TAG) === this.#arenaTag;
  }

  /**
   * Prefetching, beside step 3: what the lookup of `entry` reads besides
   * the arena — its meta word, and its expiry time where the table has
   * any (-1: none).
   */
  entryWords(entry: number): number {
    if (entry < 0) return 0;
    const expiry = this.#expiry;
    return this.#meta[entry] + (expiry === undefined || expiry.count === 0 ? 0 : expiry.at(entry));
  }

  /** Prefetching: `entry`'s value if it is an object, else undefined (-1: none). */
  objectAt(entry: number): TableObject | undefined {
    // Most tables hold no object: then a string keyspace pays nothing here.
    return entry < 0 || this.#objectCount === 0 ? undefined : this.#objects[entry];
  }

  /** Stamps live `entry` (meta word `meta`) as used: the LRU clock, or an LFU counter's chance to rise. */
  #stamp(entry: number, meta: number): void {
    if (lfuTracking) this.#meta[entry] = (meta & ~CLOCK_MASK) | this.#usedWord(entry);
    else if ((meta & CLOCK_MASK) !== accessClock) {
      this.#meta[entry] = (meta & ~CLOCK_MASK) | accessClock;
    }
  }

  /** A new entry's access word: the clock, or a new LFU counter (this command's use of it). */
  #newWord(entry: number): number {
    if (!lfuTracking) return accessClock;
    this.#stampedEntry = entry;
    this.#stampedCommand = commandNumber;
    return lfuNewWord(clockMs);
  }

  /**
   * Live `entry`'s access word once used by the current command: the LRU
   * clock, or its LFU counter bumped unless this command bumped it already
   * (see {@link beginCommand}).
   */
  #usedWord(entry: number): number {
    const word = this.#meta[entry] & CLOCK_MASK;
    if (!lfuTracking) return accessClock;
    if (entry === this.#stampedEntry && commandNumber === this.#stampedCommand) return word;
    this.#stampedEntry = entry;
    this.#stampedCommand = commandNumber;
    return touchedWord(word);
  }

  /**
   * The value of `key` (an inline binary string, or its object), or
   * `undefined`; stamps the key as used unless `touch` is false (OBJECT,
   * TYPE: Redis's LOOKUP_NOTOUCH).
   */
  get(key: string, hash: number, touch = true): string | TableObject | undefined {
    const entry = this.#find(key, hash);
    if (entry < 0) return undefined;
    const meta = this.#meta[entry];
    if (touch) this.#stamp(entry, meta);
    return this.#valueAt(entry, meta);
  }

  /**
   * What `key` holds, without making its value: -1 without the key, the
   * inline type of a value held inline (0: a string), or the object;
   * stamps the key as used unless `touch` is false.
   */
  kindOf(key: string, hash: number, touch = true): number | TableObject {
    const entry = this.#find(key, hash);
    if (entry < 0) return -1;
    const meta = this.#meta[entry];
    if (touch) this.#stamp(entry, meta);
    if (this.#entries[entry * ENTRY_INTS + VALUE_LENGTH] === OBJECT_VALUE) {
      return this.#objects[entry]!;
    }
    return (meta & TYPE_MASK) >>> TYPE_SHIFT;
  }

  /**
   * As {@link get}, except for a small collection of inline type `type`
   * (1..7) held inline: it is not unpacked, `out` is filled with where its
   * packed bytes lie (as {@link inlineRange}) and returned. One lookup for
   * a reader of either form.
   */
  getOrPacked(
    key: string,
    hash: number,
    type: number,
    out: ByteRange,
    touch = true,
  ): string | TableObject | ByteRange | undefined {
    const entry = this.#find(key, hash);
    if (entry < 0) return undefined;
    const meta = this.#meta[entry];
    if (touch) this.#stamp(entry, meta);
    if ((meta & TYPE_MASK) >>> TYPE_SHIFT !== type) return this.#valueAt(entry, meta);
    this.inlineRange(entry, out);
    return out;
  }

  /** What {@link get} gives for `entry`, whose meta word is `meta`. */
  #valueAt(entry: number, meta: number): string | TableObject | undefined {
    const entries = this.#entries;
    const at = entry * ENTRY_INTS;
    const length = entries[at + VALUE_LENGTH];
    if (length === OBJECT_VALUE) return this.#objects[entry];
    const offset = entries[at + OFFSET];
    const start = (offset & UNTAG) + entries[at + KEY_LENGTH];
    const bytes = bytesToBinary(this.#arenaOf(offset), start, start + length);
    return (meta & TYPE_MASK) === 0 ? bytes : unpackCollection(meta >>> TYPE_SHIFT & 7, bytes);
  }

  /**
   * Where `key`'s string value lies, for a reply copied straight from the
   * arena (GET): no JS string made and encoded again. Fills `out` and
   * returns 1 for a plain string of at most `maxLength` bytes held
   * inline; 0 without the key; -1 for any other value (an object, a
   * collection, a longer string: read it with {@link get}). Stamps as
   * {@link get} does. `out` is valid until the next write to the table.
   */
  stringBytes(key: string, hash: number, out: ByteRange, maxLength: number): number {
    const entry = this.#find(key, hash);
    if (entry < 0) return 0;
    const meta = this.#meta[entry];
    const length = this.#entries[entry * ENTRY_INTS + VALUE_LENGTH];
    // OBJECT_VALUE is negative: an object is refused by the length test.
    if ((meta & TYPE_MASK) !== 0 || length < 0 || length > maxLength) return -1;
    this.#stamp(entry, meta);
    this.inlineRange(entry, out);
    return 1;
  }

  /** The live entry of `key`, or -1 (no stamp: for reading facts about it). */
  entryOf(key: string, hash: number): number {
    const entry = this.#find(key, hash);
    return entry < 0 ? -1 : entry;
  }

  /** Keys with an expiry time. */
  get volatileCount(): number {
    return this.#expiry === undefined ? 0 : this.#expiry.count;
  }

  /** Live entry `entry`'s expiry time in Unix ms, 0 if none. */
  expiryAt(entry: number): number {
    return (this.#meta[entry] & EXPIRY_BIT) === 0 ? 0 : this.#expiry!.at(entry);
  }

  /** `key`'s expiry time in Unix ms, 0 if none (or no key). */
  expiryOf(key: string, hash: number): number {
    if (this.#expiry === undefined || this.#expiry.count === 0) return 0;
    const entry = this.entryOf(key, hash);
    return entry < 0 ? 0 : this.expiryAt(entry);
  }

  /** Sets the expiry time of live entry `entry` (0: none). */
  setExpiryAt(entry: number, expiresAtMs: number): void {
    assert(entry >= 0 && entry < this.#entryEnd, "an expiry is set on a live entry");
    if (this.#expiry === undefined) {
      if (expiresAtMs === 0) return;
      this.#expiry = new ExpiryColumn();
    }
    this.#expiry.set(entry, expiresAtMs);
    if (expiresAtMs === 0) this.#meta[entry] &= ~EXPIRY_BIT;
    else this.#meta[entry] |= EXPIRY_BIT;
  }

  /** The first entry ≥ `from` with an expiry time, or -1 (a stable cursor, as for {@link nextEntry}). */
  nextVolatileEntry(from: number): number {
    return this.#expiry === undefined ? -1 : this.#expiry.next(from, this.#entryEnd);
  }

  /** The access clock stamped on `entry` when it was last used. */
  accessedAt(entry: number): number {
    return this.#meta[entry] & CLOCK_MASK;
  }

  /** `entry`'s {@link EncodingHint} bits. */
  hintAt(entry: number): number {
    return (this.#meta[entry] & HINT_MASK) >>> HINT_SHIFT;
  }

  /** Whether `key` is held. */
  has(key: string, hash: number): boolean {
    return this.#find(key, hash) >= 0;
  }

  /**
   * Sets `key` to a small collection held inline as its packed bytes
   * (`packed`), of inline type `type` (1..7, see `types/registry.ts`):
   * no object per key. Reads give back a collection unpacked from them.
   */
  setPacked(key: string, hash: number, packed: string, type: number): void {
    assert(type > 0 && type <= 7, "an inline collection type is 1..7");
    const entry = this.set(key, hash, packed);
    this.#meta[entry] |= type << TYPE_SHIFT;
  }

  /**
   * The entry of `key` when it holds a small collection of inline type
   * `type` as packed bytes ({@link setPacked}), stamped as used unless
   * `touch` is false; -1 otherwise (no key, a string, an object, another
   * type). Its bytes are where {@link inlineRange} says, valid until the
   * table next changes: what a write edits in place ({@link splicePacked})
   * instead of unpacking a copy and storing it back.
   */
  packedEntry(key: string, hash: number, type: number, touch = true): number {
    assert(type > 0 && type <= 7, "an inline collection type is 1..7");
    const entry = this.#find(key, hash);
    if (entry < 0) return -1;
    const meta = this.#meta[entry];
    if ((meta & TYPE_MASK) >>> TYPE_SHIFT !== type) return -1;
    if (touch) this.#stamp(entry, meta);
    return entry;
  }

  /**
   * Fills `out` with where the inline value of `entry` lies (a string's
   * bytes, or a small collection's packed ones: see {@link packedEntry}).
   */
  inlineRange(entry: number, out: ByteRange): void {
    const at = entry * ENTRY_INTS;
    const offset = this.#entries[at + OFFSET];
    out.bytes = this.#arenaOf(offset);
    out.start = (offset & UNTAG) + this.#entries[at + KEY_LENGTH];
    out.length = this.#entries[at + VALUE_LENGTH];
  }

  /** How many packed bytes `entry` holds. */
  packedLength(entry: number): number {
    return this.#entries[entry * ENTRY_INTS + VALUE_LENGTH];
  }

  /**
   * Replaces the packed bytes [`from`, `to`) of `entry` (offsets into its
   * value, see {@link packedEntry}) with `bytes[0, count)`: in its room
   * when they fit (moving the bytes after them), else in new room, as
   * {@link set} grows a value. `bytes` must not be this table's arena.
   */
  splicePacked(entry: number, from: number, to: number, bytes: Uint8Array, count: number): void {
    const at = entry * ENTRY_INTS;
    const entries = this.#entries;
    const keyLength = entries[at + KEY_LENGTH];
    const length = entries[at + VALUE_LENGTH];
    assert(length >= 0 && 0 <= from && from <= to && to <= length, "a splice of packed bytes");
    const newLength = length - (to - from) + count;
    if (keyLength + newLength <= entries[at + ROOM]) {
      const arena = this.#arenaOf(entries[at + OFFSET]);
      const start = (entries[at + OFFSET] & UNTAG) + keyLength;
      if (count !== to - from) arena.copyWithin(start + from + count, start + to, start + length);
      for (let i = 0; i < count; i++) arena[start + from + i] = bytes[i];
      entries[at + VALUE_LENGTH] = newLength;
      return;
    }
    // As #overwrite: the old room is released once the new one exists
    // (#allocate may move the old bytes, so they are found after it).
    const room = this.#grownRoom(keyLength + newLength);
    const offset = this.#allocate(room);
    const oldOffset = entries[at + OFFSET];
    const old = this.#arenaOf(oldOffset);
    const oldStart = oldOffset & UNTAG;
    const arena = this.#arena;
    const start = offset & UNTAG;
    arena.set(old.subarray(oldStart, oldStart + keyLength + from), start);
    arena.set(bytes.subarray(0, count), start + keyLength + from);
    arena.set(
      old.subarray(oldStart + keyLength + to, oldStart + keyLength + length),
      start + keyLength + from + count,
    );
    this.#releaseRoom(oldOffset, entries[at + ROOM]);
    entries[at + OFFSET] = offset;
    entries[at + VALUE_LENGTH] = newLength;
    entries[at + ROOM] = room;
  }

  /**
   * Sets `key` to the inline binary string `value`, with its
   * {@link EncodingHint}; returns its entry.
   */
  set(key: string, hash: number, value: string, hint = 0): number {
    const found = this.#find(key, hash);
    let entry: number;
    let word: number;
    if (found >= 0) {
      entry = found;
      this.#overwrite(entry, key, value);
      if (this.#objectCount !== 0) this.#dropObject(entry);
      word = this.#usedWord(entry);
    } else {
      entry = this.#insert(~found, key, hash, value);
      word = this.#newWord(entry);
    }
    this.#meta[entry] = (this.#meta[entry] & EXPIRY_BIT) | (hint << HINT_SHIFT) | word;
    return entry;
  }

  /**
   * Sets `key`, when it holds an inline string with room for them, to the
   * decimal digits of safe integer `value` (hint None; expiry kept),
   * written where the string is: INCR's write, with no string made of the
   * number. False, changing nothing, otherwise (no key, another value, no
   * room: {@link set} it).
   */
  setDecimal(key: string, hash: number, value: number): boolean {
    const entry = this.#find(key, hash);
    if (entry < 0 || (this.#meta[entry] & TYPE_MASK) !== 0) return false;
    const at = entry * ENTRY_INTS;
    const length = decimalLength(value);
    // OBJECT_VALUE is negative: an object is refused here.
    if (this.#entries[at + VALUE_LENGTH] < 0) return false;
    if (key.length + length > this.#entries[at + ROOM]) return false;
    const offset = this.#entries[at + OFFSET];
    writeDecimal(value, this.#arenaOf(offset), (offset & UNTAG) + key.length, length);
    this.#entries[at + VALUE_LENGTH] = length;
    this.#meta[entry] = (this.#meta[entry] & EXPIRY_BIT) | this.#usedWord(entry);
    return true;
  }

  /**
   * Sets `key` to the object `value` (the arena keeps only the key),
   * charged `costBytes` in {@link accountedBytes} until it is replaced,
   * deleted or {@link recharge}d.
   */
  setObject(key: string, hash: number, value: TableObject, costBytes = 0): void {
    const found = this.#find(key, hash);
    let entry: number;
    let word: number;
    if (found >= 0) {
      entry = found;
      // The key's room stays, the inline value bytes in it unused (ROOM
      // still covers them) until the entry is freed or written inline again.
      word = this.#usedWord(entry);
    } else {
      entry = this.#insert(~found, key, hash, "");
      word = this.#newWord(entry);
    }
    const at = entry * ENTRY_INTS;
    if (entry >= this.#objects.length) this.#extendObjects(entry);
    if (this.#entries[at + VALUE_LENGTH] !== OBJECT_VALUE) {
      this.#objectCount++;
      this.#objectCosts[entry] = 0;
    }
    this.#entries[at + VALUE_LENGTH] = OBJECT_VALUE;
    this.#objects[entry] = value;
    this.#recharge(entry, costBytes);
    this.#meta[entry] = (this.#meta[entry] & EXPIRY_BIT) | (EncodingHint.Raw << HINT_SHIFT) | word;
  }

  /**
   * Charges the object value of live entry `entry` ({@link entryOf})
   * `costBytes` from now on (it changed in place); nothing for an entry
   * without an object value, or -1. Takes the entry, not the key: its
   * callers have just looked it up (a second lookup was ~1% of an
   * in-process XADD).
   */
  recharge(entry: number, costBytes: number): void {
    if (entry >= 0 && this.#entries[entry * ENTRY_INTS + VALUE_LENGTH] === OBJECT_VALUE) {
      this.#recharge(entry, costBytes);
    }
  }

  /**
   * Grows the object columns, densely, to hold `entry`: a first object at
   * a high entry index (a hash made after thousands of string keys) would
   * otherwise turn both arrays into V8's dictionary elements, a hash
   * lookup per access. In-process, 100k string keys first, then one key
   * written in batches of 16 (3 alternating runs): HSET 631–709 → 428–516
   * ns, LPUSH 520–564 → 333–345 ns.
   */
  #extendObjects(entry: number): void {
    const objects = this.#objects;
    const costs = this.#objectCosts;
    while (objects.length <= entry) objects.push(undefined);
    while (costs.length <= entry) costs.push(0);
  }

  #recharge(entry: number, costBytes: number): void {
    const delta = costBytes - (this.#objectCosts[entry] ?? 0);
    this.#objectBytes += delta;
    this.#meter.bytes += delta;
    this.#objectCosts[entry] = costBytes;
  }

  /** Adds a new key with an inline value at the empty slot `empty`; returns its entry. */
  #insert(empty: number, key: string, hash: number, value: string): number {
    // Room first: if the arena cannot grow, nothing has changed.
    if (this.#entriesFull()) {
      throw new RangeError(`a partition holds at most ${MAX_TABLE_ENTRIES} keys`);
    }
    const offset = this.#allocate(roundUp8(key.length + value.length));
    const entry = this.#newEntry();
    this.#place(entry, offset, key, value);
    if (this.#slots[empty] === TOMBSTONE) this.#tombstones--;
    this.#slots[empty] = this.#tagOf(mix(hash)) | (entry + 1);
    this.#size++;
    this.#keyBytes += key.length;
    // The hash contract (see the module doc), on a sample of inserts: a
    // wrong hash would lose keys silently at the next rebuild.
    assert(
      (this.#size & 63) !== 1 ||
        this.#hashKey(this.#arena, offset & UNTAG, (offset & UNTAG) + key.length) === hash,
      "a key's hash is the table's hashKey of its bytes",
    );
    this.#meter.bytes += KEY_OVERHEAD_BYTES;
    if ((this.#size + this.#tombstones) * 4 > (this.#mask + 1) * 3) this.#rebuildSlots();
    return entry;
  }

  /** Forgets `entry`'s object, if its value was one (now inline or gone). */
  #dropObject(entry: number): void {
    if (this.#objects[entry] === undefined) return;
    this.#objects[entry] = undefined;
    this.#objectCount--;
    const cost = this.#objectCosts[entry] ?? 0;
    this.#objectBytes -= cost;
    this.#meter.bytes -= cost;
    this.#objectCosts[entry] = 0;
  }

  /** Removes `key`; whether it was held. */
  delete(key: string, hash: number): boolean {
    const entry = this.#find(key, hash);
    if (entry < 0) return false;
    const slot = this.#foundSlot;
    this.#dropObject(entry);
    this.#keyBytes -= this.#entries[entry * ENTRY_INTS + KEY_LENGTH];
    this.#freeEntryAt(entry);
    this.#removeSlot(slot);
    this.#size--;
    this.#meter.bytes -= KEY_OVERHEAD_BYTES;
    return true;
  }

  /** Removes every key and gives back the memory. */
  clear(): void {
    this.#meter.bytes -= this.accountedBytes;
    this.#reset();
  }

  /** The empty state. */
  #reset(): void {
    this.#lastKey = undefined;
    this.#slots = new Int32Array(INITIAL_SLOTS);
    this.#mask = INITIAL_SLOTS - 1;
    this.#size = 0;
    this.#tombstones = 0;
    this.#oldSlots = undefined;
    this.#oldMask = 0;
    this.#oldKeys = 0;
    this.#sweepAt = 0;
    this.#sweepLeft = 0;
    this.#keyBytes = 0;
    this.#entries = new Int32Array(INITIAL_ENTRIES * ENTRY_INTS);
    this.#nextEntries.drop();
    this.#nextMeta.drop();
    this.#entryEnd = 0;
    this.#freeEntry = -1;
    this.#arena = new Uint8Array(INITIAL_ARENA_BYTES);
    this.#arenaTag = 0;
    this.#arenaUsed = 0;
    this.#deadBytes = 0;
    this.#oldArena = undefined;
    this.#oldLiveBytes = 0;
    this.#oldUsedBytes = 0;
    this.#migrateAt = 0;
    this.#resizing = false;
    this.#objects = [];
    this.#objectCount = 0;
    this.#objectCosts = [];
    this.#objectBytes = 0;
    this.#meta = new Uint32Array(INITIAL_ENTRIES);
    this.#expiry = undefined;
  }

  /** Entries whose value is an object (the rest are inline strings). */
  get objectCount(): number {
    return this.#objectCount;
  }

  /**
   * The first live entry index ≥ `from`, or -1. Indices are stable for a
   * key's life: see the module doc.
   */
  nextEntry(from: number): number {
    const entries = this.#entries;
    for (let i = from; i < this.#entryEnd; i++) {
      if (entries[i * ENTRY_INTS + KEY_LENGTH] >= 0) return i;
    }
    return -1;
  }

  /**
   * A live entry chosen at random (`random` in [0, 1)), or -1 when empty:
   * the first occupied slot from a random one. Keys after long empty runs
   * are likelier, as with Redis's RANDOMKEY; good enough for sampling.
   */
  randomEntry(random: number): number {
    if (this.#size === 0) return -1;
    // While a rebuild drains, the old slots are chosen in proportion to
    // the keys they still hold.
    const oldShare = this.#oldKeys / this.#size;
    if (random < oldShare) return KeyTable.#firstKeyFrom(this.#oldSlots!, random / oldShare);
    const inNew = oldShare === 0 ? random : (random - oldShare) / (1 - oldShare);
    return KeyTable.#firstKeyFrom(this.#slots, inNew);
  }

  /** The entry of the first key in `slots` from a slot chosen by `random`, or -1. */
  static #firstKeyFrom(slots: Int32Array, random: number): number {
    const mask = slots.length - 1;
    const start = Math.floor(random * (mask + 1)) & mask;
    for (let i = 0; i <= mask; i++) {
      const word = slots[(start + i) & mask];
      if (word !== 0 && word !== TOMBSTONE) return (word & ENTRY_MASK) - 1;
    }
    return -1;
  }

  /** The keys, walked live by entry index (see {@link nextEntry}). */
  *keys(): IterableIterator<string> {
    for (let i = this.nextEntry(0); i >= 0; i = this.nextEntry(i + 1)) yield this.keyAt(i);
  }

  /** The key of live entry `entry`. */
  keyAt(entry: number): string {
    const at = entry * ENTRY_INTS;
    const offset = this.#entries[at + OFFSET];
    const start = offset & UNTAG;
    return bytesToBinary(this.#arenaOf(offset), start, start + this.#entries[at + KEY_LENGTH]);
  }

  /**
   * The value of live entry `entry` as a binary string (an object value
   * by its `toString()`: a large string's bytes).
   */
  valueAt(entry: number): string {
    const at = entry * ENTRY_INTS;
    const length = this.#entries[at + VALUE_LENGTH];
    if (length === OBJECT_VALUE) return String(this.#objects[entry]);
    const offset = this.#entries[at + OFFSET];
    const start = (offset & UNTAG) + this.#entries[at + KEY_LENGTH];
    return bytesToBinary(this.#arenaOf(offset), start, start + length);
  }

  /**
   * The value of live entry `entry`: its inline string, its object, or a
   * collection unpacked from its inline bytes.
   */
  valueRefAt(entry: number): string | TableObject {
    const at = entry * ENTRY_INTS;
    if (this.#entries[at + VALUE_LENGTH] === OBJECT_VALUE) return this.#objects[entry]!;
    const type = (this.#meta[entry] & TYPE_MASK) >>> TYPE_SHIFT;
    return type === 0 ? this.valueAt(entry) : unpackCollection(type, this.valueAt(entry));
  }

  /**
   * The entry of `key` (its slot left in {@link #foundSlot}), or the
   * complement (`~slot`, negative) of the free slot of `#slots` where it
   * would go: the first tombstone on its probe path, else the empty slot
   * that ends it.
   */
  #find(key: string, hash: number): number {
    // Every lookup moves a resize on, before it probes: a table that is
    // only read finishes it too, and each insert, delete or allocation
    // comes after a lookup (see the module doc for why that is enough).
    if (this.#resizing) this.#resizeStep();
    // The hash first: a different key costs one integer compare.
    if (hash === this.#lastHash && key === this.#lastKey) {
      this.#foundSlot = this.#lastSlot;
      return this.#lastEntry;
    }
    const slots = this.#slots;
    const mask = this.#mask;
    const mixed = mix(hash);
    const tag = mixed >>> ENTRY_BITS;
    let slot = mixed & mask;
    let free = -1;
    for (;;) {
      const word = slots[slot];
      if (word === 0) break;
      if (word === TOMBSTONE) {
        if (free < 0) free = slot;
      } else if (word >>> ENTRY_BITS === tag && this.#keyEquals((word & ENTRY_MASK) - 1, key)) {
        return this.#found(key, hash, (word & ENTRY_MASK) - 1, slot);
      }
      slot = (slot + 1) & mask;
    }
    if (this.#oldSlots !== undefined) {
      const old = this.#oldSlots;
      const oldMask = this.#oldMask;
      for (let at = mixed & oldMask;; at = (at + 1) & oldMask) {
        const word = old[at];
        if (word === 0) break;
        if (
          word !== TOMBSTONE && word >>> ENTRY_BITS === tag &&
          this.#keyEquals((word & ENTRY_MASK) - 1, key)
        ) {
          return this.#found(key, hash, (word & ENTRY_MASK) - 1, -2 - at);
        }
      }
    }
    return ~(free < 0 ? slot : free);
  }

  /** A step of the slot rebuild and of the arena migration under way. */
  #resizeStep(): void {
    if (this.#oldSlots !== undefined) this.#drainStep(DRAIN_STEP_SLOTS);
    if (this.#oldArena !== undefined) this.#migrateStep(MIGRATION_STEP_ENTRIES);
  }

  /** Remembers what {@link #find} found; returns `entry`. */
  #found(key: string, hash: number, entry: number, slot: number): number {
    this.#lastKey = key;
    this.#lastHash = hash;
    this.#lastEntry = entry;
    this.#lastSlot = slot;
    this.#foundSlot = slot;
    return entry;
  }

  #keyEquals(entry: number, key: string): boolean {
    const length = key.length;
    const at = entry * ENTRY_INTS;
    if (this.#entries[at + KEY_LENGTH] !== length) return false;
    const offset = this.#entries[at + OFFSET];
    const arena = this.#arenaOf(offset);
    const start = offset & UNTAG;
    for (let i = 0; i < length; i++) {
      if (arena[start + i] !== key.charCodeAt(i)) return false;
    }
    return true;
  }

  #overwrite(entry: number, key: string, value: string): void {
    const at = entry * ENTRY_INTS;
    if (key.length + value.length <= this.#entries[at + ROOM]) {
      const offset = this.#entries[at + OFFSET];
      writeBinary(value, this.#arenaOf(offset), (offset & UNTAG) + key.length);
      this.#entries[at + VALUE_LENGTH] = value.length;
      return;
    }
    // The old bytes count as dead only once the new room exists: if the
    // arena cannot grow, the entry is untouched. (A migration inside
    // #allocate may move the old bytes: they are still live then, and
    // released where they are now.)
    const room = this.#grownRoom(key.length + value.length);
    const offset = this.#allocate(room);
    this.#releaseRoom(this.#entries[at + OFFSET], this.#entries[at + ROOM]);
    this.#place(entry, offset, key, value, room);
  }

  /**
   * The room for a value that outgrew its own, `bytes` with its key: a
   * quarter more (see {@link GROWN_SLACK_SHIFT}), with no slack where that
   * alone would pass the arena limit.
   */
  #grownRoom(bytes: number): number {
    const room = roundUp8(bytes + (bytes >>> GROWN_SLACK_SHIFT));
    return this.hasRoomFor(room) ? room : roundUp8(bytes);
  }

  /** Counts `room` bytes at tagged offset `offset` dead, in whichever arena holds them. */
  #releaseRoom(offset: number, room: number): void {
    if (this.#inCurrentArena(offset)) this.#deadBytes += room;
    else this.#oldLiveBytes -= room;
    this.#meter.bytes -= room * ARENA_BYTES_PER_LIVE_BYTE;
  }

  /**
   * Points `entry` at the `room` bytes allocated at (tagged) `offset` in
   * the current arena and writes its key and value there.
   */
  #place(
    entry: number,
    offset: number,
    key: string,
    value: string,
    room = roundUp8(key.length + value.length),
  ): void {
    writeBinary(value, this.#arena, writeBinary(key, this.#arena, offset & UNTAG));
    const at = entry * ENTRY_INTS;
    this.#entries[at + OFFSET] = offset;
    this.#entries[at + KEY_LENGTH] = key.length;
    this.#entries[at + VALUE_LENGTH] = value.length;
    this.#entries[at + ROOM] = room;
  }

  /** Room for `bytes` in the current arena; its tagged offset. */
  #allocate(bytes: number): number {
    if (this.#oldArena !== undefined) this.#migrateBytes(2 * bytes);
    // While migrating, the old arena's live rooms have room kept for them.
    if (this.#arenaUsed + this.#oldLiveBytes + bytes > this.#arena.length) this.#makeRoom(bytes);
    const offset = this.#arenaUsed;
    this.#arenaUsed += bytes;
    this.#meter.bytes += bytes * ARENA_BYTES_PER_LIVE_BYTE;
    return offset | this.#arenaTag;
  }

  /**
   * Moves at least `budget` bytes of live rooms out of the old arena (or
   * all that are left): an allocation's share of a migration (see the
   * module doc).
   */
  #migrateBytes(budget: number): void {
    const target = this.#oldLiveBytes - budget;
    while (this.#oldArena !== undefined && this.#oldLiveBytes > target) {
      this.#migrateStep(MIGRATION_STEP_ENTRIES);
    }
  }

  /**
   * Replaces a full arena with one of 1 + {@link FRESH_ARENA_SPARE} times
   * what it will hold (see the module doc) and begins moving the live
   * rooms over. A migration still under way when the fresh arena fills
   * (only where the arena limit cut the fresh one's size) is finished
   * first.
   */
  #makeRoom(bytes: number): void {
    if (this.#oldArena !== undefined) {
      this.#migrateStep(Infinity);
      if (this.#arenaUsed + bytes <= this.#arena.length) return;
    }
    // Sized from the live bytes alone, dead ones being what a migration
    // leaves behind (arenaGrowth with none dead: grown, not compacted).
    const growth = arenaGrowth(
      this.#arenaUsed - this.#deadBytes,
      0,
      bytes,
      this.#maxArenaBytes,
      INITIAL_ARENA_BYTES,
      FRESH_ARENA_SPARE,
    );
    if (growth === undefined) {
      throw new RangeError(
        `a partition holds at most ${this.#maxArenaBytes} bytes of keys and values`,
      );
    }
    // A fresh array, not the old one grown or compacted in place: the old
    // one is freed (detached) once the migration has ended and the command
    // that ended it is over (see `retiring`), not left to the
    // garbage collector, and the fresh one's spare capacity stays unwritten,
    // so not resident (see `grown_array.ts`).
    this.#oldArena = this.#arena;
    this.#oldUsedBytes = this.#arenaUsed;
    this.#oldLiveBytes = this.#arenaUsed - this.#deadBytes;
    this.#arena = new Uint8Array(growth.capacity);
    this.#arenaTag ^= ARENA_TAG;
    this.#arenaUsed = 0;
    this.#deadBytes = 0;
    this.#migrateAt = 0;
    this.#updateResizing();
    assert(
      this.#oldLiveBytes + bytes <= growth.capacity,
      "a fresh arena holds the old one's live rooms and the request",
    );
    if (this.#oldUsedBytes <= ONE_STEP_ARENA_BYTES) this.#migrateStep(Infinity);
  }

  /**
   * Moves the rooms of the next `entryCount` entries out of the old arena
   * (all that are left for Infinity); frees it when none is left.
   */
  #migrateStep(entryCount: number): void {
    const old = this.#oldArena!;
    const arena = this.#arena;
    const entries = this.#entries;
    const tag = this.#arenaTag;
    const end = Math.min(this.#entryEnd, this.#migrateAt + entryCount);
    let used = this.#arenaUsed;
    for (let entry = this.#migrateAt; entry < end; entry++) {
      const at = entry * ENTRY_INTS;
      const offset = entries[at + OFFSET];
      // Free entries chain through OFFSET; rooms already new keep theirs.
      if (entries[at + KEY_LENGTH] < 0 || (offset & ARENA_TAG) === tag) continue;
      const from = offset & UNTAG;
      const room = entries[at + ROOM];
      if (room <= SHORT_COPY_BYTES) {
        for (let i = 0; i < room; i++) arena[used + i] = old[from + i];
      } else arena.set(old.subarray(from, from + room), used);
      entries[at + OFFSET] = used | tag;
      used += room;
      this.#oldLiveBytes -= room;
    }
    assert(used <= arena.length, "moved rooms stay inside the fresh arena");
    this.#arenaUsed = used;
    this.#migrateAt = end;
    if (end < this.#entryEnd) return;
    assert(this.#oldLiveBytes === 0, "a migration ends with nothing live in the old arena");
    this.#oldArena = undefined;
    this.#oldUsedBytes = 0;
    this.#updateResizing();
    // Nothing else holds the old array but the readers of this command:
    // released when it is over (see `retiring`), at most one a table.
    if (this.#retiredArena !== undefined) release(this.#retiredArena);
    else retiring.push(this);
    this.#retiredArena = old.buffer as ArrayBuffer;
  }

  /** Frees the arena the last migration emptied, if any (see `beginCommand`). */
  releaseRetired(): void {
    if (this.#retiredArena === undefined) return;
    release(this.#retiredArena);
    this.#retiredArena = undefined;
  }

  #newEntry(): number {
    if (this.#freeEntry >= 0) {
      const entry = this.#freeEntry;
      this.#freeEntry = this.#entries[entry * ENTRY_INTS + OFFSET];
      return entry;
    }
    const capacity = this.#meta.length;
    const windowStart = capacity - (capacity >>> READY_WINDOW_SHIFT);
    if (this.#entryEnd === capacity) this.#growEntries();
    else if (this.#entryEnd >= windowStart && capacity >= READY_MIN_ENTRIES) {
      // The part of the successors the copy fills is resident by the time
      // it is needed (see READY_WINDOW_SHIFT).
      const per = 1 << READY_WINDOW_SHIFT;
      const ready = (this.#entryEnd - windowStart) * per;
      const entries = this.#entries;
      this.#nextEntries.touch(
        entries,
        entries.length * 2,
        ready * ENTRY_INTS,
        (ready + per) * ENTRY_INTS,
      );
      this.#nextMeta.touch(this.#meta, capacity * 2, ready, ready + per);
    }
    return this.#entryEnd++;
  }

  #freeEntryAt(entry: number): void {
    if (this.#expiry !== undefined) this.#expiry.set(entry, 0);
    this.#meta[entry] &= ~EXPIRY_BIT;
    const at = entry * ENTRY_INTS;
    this.#releaseRoom(this.#entries[at + OFFSET], this.#entries[at + ROOM]);
    this.#entries[at + ROOM] = 0;
    this.#entries[at + KEY_LENGTH] = -1;
    this.#entries[at + VALUE_LENGTH] = 0;
    this.#entries[at + OFFSET] = this.#freeEntry;
    this.#freeEntry = entry;
  }

  // The replaced arrays are released at once (`ReadyArray.grown`, as the old slots
  // in #drainStep): one left to the garbage collector stays resident until
  // a major GC, which a server that only stores bytes off-heap may not run
  // for long (issue 20: 1M keys, RSS −4..6 MiB and the 8 MiB run-to-run
  // swing gone).
  #growEntries(): void {
    this.#entries = this.#nextEntries.grown(this.#entries, this.#entries.length * 2);
    this.#meta = this.#nextMeta.grown(this.#meta, this.#meta.length * 2);
  }

  /** Whether no entry is left for a new key (see {@link MAX_TABLE_ENTRIES}). */
  #entriesFull(): boolean {
    return this.#entryEnd >= MAX_TABLE_ENTRIES && this.#freeEntry < 0;
  }

  /** A slot word's tag bits for a key of mixed hash `mixed`. */
  #tagOf(mixed: number): number {
    return (mixed >>> ENTRY_BITS) << ENTRY_BITS;
  }

  /**
   * Begins making the slots again with no tombstone, doubled while the
   * keys alone pass half of them or their bytes {@link MAX_KEY_BYTES_PER_SLOT}
   * per slot (so a rebuild comes at most once per a quarter of the slots
   * deleted: two keys and 1 KiB hashed again a delete at most). The old
   * slots drain a step per lookup (see the module doc); one
   * still draining is finished first.
   */
  #rebuildSlots(): void {
    if (this.#oldSlots !== undefined) this.#drainStep(Infinity);
    this.#lastKey = undefined;
    const old = this.#slots;
    let slotCount = old.length;
    while (this.#size * 2 > slotCount || this.#keyBytes > slotCount * MAX_KEY_BYTES_PER_SLOT) {
      slotCount *= 2;
    }
    this.#oldSlots = old;
    this.#oldMask = this.#mask;
    this.#oldKeys = this.#size;
    this.#slots = new Int32Array(slotCount);
    this.#mask = slotCount - 1;
    this.#tombstones = 0;
    // The sweep starts at an empty slot, so no probe run wraps past it.
    let start = 0;
    while (old[start] !== 0) start++;
    this.#sweepAt = start;
    this.#sweepLeft = old.length;
    this.#updateResizing();
    this.#drainStep(DRAIN_STEP_SLOTS);
  }

  /**
   * Moves the keys of the next `slotCount` old slots, and of the rest of
   * the probe run the last one is in, to the new slots (every one that is
   * left for Infinity); frees the old slots when none is left. Each key is
   * placed by its hash made again from its bytes.
   */
  #drainStep(slotCount: number): void {
    this.#lastKey = undefined;
    const old = this.#oldSlots!;
    const oldMask = this.#oldMask;
    const slots = this.#slots;
    const mask = this.#mask;
    const entries = this.#entries;
    let at = this.#sweepAt;
    let left = this.#sweepLeft;
    for (let swept = 0; left > 0 && (swept < slotCount || old[at] !== 0); swept++, left--) {
      const word = old[at];
      if (word !== 0 && word !== TOMBSTONE) {
        const fields = ((word & ENTRY_MASK) - 1) * ENTRY_INTS;
        const offset = entries[fields + OFFSET];
        const length = entries[fields + KEY_LENGTH];
        const start = offset & UNTAG;
        let slot = mix(this.#hashKey(this.#arenaOf(offset), start, start + length)) & mask;
        while (slots[slot] !== 0 && slots[slot] !== TOMBSTONE) slot = (slot + 1) & mask;
        if (slots[slot] === TOMBSTONE) this.#tombstones--;
        // The tag bits come from the same mixed hash: the word moves as it is.
        slots[slot] = word;
        this.#oldKeys--;
      }
      old[at] = 0;
      at = (at + 1) & oldMask;
    }
    this.#sweepAt = at;
    this.#sweepLeft = left;
    if (left > 0) return;
    assert(this.#oldKeys === 0, "a drain ends with no key left in the old slots");
    this.#oldSlots = undefined;
    this.#updateResizing();
    (old.buffer as ArrayBuffer).transfer(0); // detached: its bytes are freed now
  }

  /**
   * Frees the slot {@link #find} reported (a slot of `#slots`, or `-2 -
   * slot` for an old one): a tombstone, so that probes for later keys go
   * on past it; or empty, with the tombstones just before it, when the
   * slot after it is empty (no probe path goes on from there).
   */
  #removeSlot(found: number): void {
    this.#lastKey = undefined;
    const inOld = found < 0;
    const slots = inOld ? this.#oldSlots! : this.#slots;
    const mask = inOld ? this.#oldMask : this.#mask;
    const slot = inOld ? -2 - found : found;
    // Only the current slots' tombstones are counted (they decide a rebuild).
    const counted = inOld ? 0 : 1;
    if (inOld) this.#oldKeys--;
    if (slots[(slot + 1) & mask] !== 0) {
      slots[slot] = TOMBSTONE;
      this.#tombstones += counted;
      return;
    }
    slots[slot] = 0;
    for (
      let before = (slot - 1) & mask;
      slots[before] === TOMBSTONE;
      before = (before - 1) & mask
    ) {
      slots[before] = 0;
      this.#tombstones -= counted;
    }
  }
}
