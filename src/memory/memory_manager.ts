/**
 * kvdb's memory model (Redis's `maxmemory`): what `used_memory` counts, the
 * limit and its policy, and eviction.
 *
 * Accounting is incremental and O(partitions) to read, never a walk of the
 * keyspace: each key table keeps its live arena bytes, a fixed per-key
 * overhead and the charge of its object values (`KeyTable.accountedBytes`),
 * each engine adds its expiry entries; to these come the overhead sources
 * registered with {@link MemoryManager.setOverhead} (connection buffers,
 * the replication backlog, the WAL's pending batch), sampled by
 * {@link MemoryManager.refreshOverhead}. The runtime's own heap (code,
 * ~9 MB) is not data and is not counted (Redis's own start-up cost is
 * ~1 MB; counting kvdb's would make small limits meaningless): it shows in
 * INFO's `used_memory_heap_used`. Against maxmemory, as Redis leaves out
 * its replica output buffers and AOF buffer, kvdb leaves out the
 * replication backlog and the WAL's pending batch: each is bounded by a
 * limit of its own. All of it is an estimate of what the data costs, not
 * the process's resident size (measured: README "Memory").
 *
 * Eviction follows Redis's evict.c: before a write (and before a queued
 * transaction's EXEC) the executor calls {@link MemoryManager.freeMemory},
 * which, while used memory is over the limit, samples `maxmemory-samples`
 * keys per database into a 16-entry {@link EvictionPool} and deletes the
 * best candidate — through `Database.remove`, the path DEL takes, so the
 * eviction is logged in the WAL and replicated as a delete. A replica never
 * gets there (it refuses writes): it follows its master's deletes.
 *
 * @example
 * ```ts
 * store.memory.configure({ maxmemoryBytes: 64 * 1024 ** 2, policy: "allkeys-lru" });
 * store.memory.freeMemory(); // false: over the limit with nothing to evict (-OOM)
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";
import type { Database } from "../storage/database.ts";
import type { VolatileCursor } from "../storage/engine.ts";
import { accessClockMs, idleSeconds, setAccessTracking } from "../storage/key_table.ts";
import { EvictionPool } from "./eviction_pool.ts";
import { lfuCounter } from "./lfu.ts";
import { type MaxmemoryPolicy, type PolicyTraits, policyTraits } from "./policy.ts";

/** Overhead sources left out of the maxmemory check (see the module doc). */
const NOT_COUNTED = new Set(["replication_backlog", "wal_pending"]);

/**
 * Longest one {@link MemoryManager.freeMemory} call evicts before letting
 * the command run (Redis's maxmemory-eviction-tenacity bound; the next
 * write goes on where it stopped).
 */
const EVICTION_TIME_LIMIT_MS = 25;

/** Sampling rounds without finding a live candidate before eviction gives up. */
const MAX_EMPTY_ROUNDS = 16;

/** The settings, as CONFIG and YAML give them. */
export interface MemorySettings {
  /** 0: no limit. */
  maxmemoryBytes: number;
  policy: MaxmemoryPolicy;
  /** Keys sampled per database per round (Redis's maxmemory-samples). */
  samples: number;
  lfuLogFactor: number;
  /** Minutes per decrement of an unused key's LFU counter. */
  lfuDecayMinutes: number;
}

/** What the manager needs from the store. */
export interface MemoryHost {
  readonly databaseCount: number;
  database(index: number): Database;
}

/**
 * See the module doc.
 *
 * @example
 * ```ts
 * const memory = new MemoryManager(store);
 * memory.usedBytes(); // startup heap + dataset + overheads
 * ```
 */
export class MemoryManager {
  #settings: MemorySettings = {
    maxmemoryBytes: 0,
    policy: "noeviction",
    samples: 5,
    lfuLogFactor: 10,
    lfuDecayMinutes: 1,
  };
  #traits: PolicyTraits = policyTraits("noeviction");
  readonly #host: MemoryHost;
  readonly #pool = new EvictionPool();
  readonly #overheads = new Map<string, () => number>();
  /** The overhead sources' sum at the last {@link refreshOverhead}. */
  #overheadBytes = 0;
  /** The part of it counted against maxmemory. */
  #countedOverheadBytes = 0;
  /** Where a volatile policy's sampling left off, by database. */
  #cursors: VolatileCursor[] = [];
  /** Keys evicted since start (INFO stats `evicted_keys`). */
  evictedKeys = 0;
  /** The highest {@link usedBytes} seen (INFO `used_memory_peak`). */
  peakBytes = 0;
  /**
   * Whether this server may evict (false on a replica: set by
   * `install_memory.ts`); background eviction asks it before each slice.
   */
  mayEvict: () => boolean = () => true;
  /** A background eviction slice is scheduled (Redis's evictionTimeProc). */
  #background: ReturnType<typeof setTimeout> | undefined;
  /** Told of each evicted key (keyspace notifications: `evicted`). */
  onEvicted: ((db: number, key: string) => void) | undefined = undefined;

  constructor(host: MemoryHost) {
    this.#host = host;
  }

  /** The limit in bytes; 0: none. Read on every write: kept a plain field. */
  maxmemoryBytes = 0;

  /** The running settings. */
  get settings(): Readonly<MemorySettings> {
    return this.#settings;
  }

  /**
   * Changes settings (CONFIG SET, start-up). Keys' access words follow
   * the policy's kind (LRU clock or LFU counter), as in Redis.
   */
  configure(change: Partial<MemorySettings>): void {
    const next = { ...this.#settings, ...change };
    if (next.policy !== this.#settings.policy) this.#pool.clear();
    this.#settings = next;
    this.#traits = policyTraits(next.policy);
    this.maxmemoryBytes = next.maxmemoryBytes;
    setAccessTracking(this.#traits.rank === "lfu", next.lfuLogFactor, next.lfuDecayMinutes);
  }

  /**
   * Registers (or, with undefined, removes) a source of memory outside the
   * keyspace, counted in `used_memory`: `clients` (connection query and
   * output buffers: the client-limits work feeds it), `replication_backlog`,
   * `wal_pending`. Sources are read by {@link refreshOverhead} (a timer,
   * and INFO), never on the write path, so they may cost a little.
   */
  setOverhead(name: string, bytes: (() => number) | undefined): void {
    if (bytes === undefined) this.#overheads.delete(name);
    else this.#overheads.set(name, bytes);
    this.refreshOverhead();
  }

  /** One registered source's current bytes (0 if none): INFO's per-source fields. */
  overheadOf(name: string): number {
    return this.#overheads.get(name)?.() ?? 0;
  }

  /** Reads the overhead sources again (a 100 ms timer does; INFO does). */
  refreshOverhead(): void {
    let bytes = 0;
    let counted = 0;
    for (const [name, source] of this.#overheads) {
      const n = source();
      bytes += n;
      if (!NOT_COUNTED.has(name)) counted += n;
    }
    this.#overheadBytes = bytes;
    this.#countedOverheadBytes = counted;
    // Memory outside the keyspace grows without a write (a client's
    // buffers): evict for it in the background, as Redis evicts before
    // any command, not only before the next write.
    const max = this.maxmemoryBytes;
    if (
      max !== 0 && this.#traits.rank !== "none" && this.#background === undefined &&
      this.countedBytes() > max
    ) {
      this.#background = setTimeout(() => this.#backgroundSlice(), 0);
    }
  }

  /** Bytes the keyspaces cost (Redis's `used_memory_dataset`, estimated). */
  datasetBytes(): number {
    const host = this.#host;
    let bytes = 0;
    for (let db = 0; db < host.databaseCount; db++) {
      bytes += host.database(db).engine.accountedBytes;
    }
    return bytes;
  }

  /** Everything but the dataset (Redis's `used_memory_overhead`). */
  overheadBytes(): number {
    return this.#overheadBytes;
  }

  /** Redis's `used_memory`: the dataset and the overheads; updates the peak. */
  usedBytes(): number {
    const used = this.#overheadBytes + this.datasetBytes();
    if (used > this.peakBytes) this.peakBytes = used;
    return used;
  }

  /** What is checked against maxmemory: {@link usedBytes} but the sources not counted. */
  countedBytes(): number {
    return this.#countedOverheadBytes + this.datasetBytes();
  }

  /**
   * Brings used memory under the limit by evicting keys as the policy says
   * (Redis's performEvictions). True when the write may go on: under the
   * limit, no limit, or eviction still making progress when its time slice
   * ran out; false when over the limit with nothing (more) to evict — the
   * caller refuses a write that could grow memory with -OOM.
   */
  freeMemory(): boolean {
    const max = this.maxmemoryBytes;
    if (max === 0) return true;
    let used = this.countedBytes();
    if (used <= max) return true;
    if (this.#traits.rank === "none") return false;
    const deadline = performance.now() + EVICTION_TIME_LIMIT_MS;
    let evicted = 0;
    while (used > max) {
      if (!this.#evictOne()) return false;
      evicted++;
      used = this.countedBytes();
      if ((evicted & 63) === 0 && performance.now() > deadline) {
        // Still over: go on between requests, as Redis's eviction time proc does.
        this.#background ??= setTimeout(() => this.#backgroundSlice(), 0);
        return true;
      }
    }
    return true;
  }

  #backgroundSlice(): void {
    this.#background = undefined;
    if (this.mayEvict()) this.freeMemory();
  }

  /** Cancels background eviction (shutdown). */
  stop(): void {
    clearTimeout(this.#background);
    this.#background = undefined;
  }

  /**
   * {@link freeMemory} until under the limit or nothing more can go,
   * however long it takes (a lowered limit: CONFIG SET maxmemory);
   * returns how many keys were evicted.
   */
  evictToLimit(): number {
    const before = this.evictedKeys;
    while (this.maxmemoryBytes !== 0 && this.countedBytes() > this.maxmemoryBytes) {
      const evicted = this.evictedKeys;
      if (!this.freeMemory() || this.evictedKeys === evicted) break;
    }
    return this.evictedKeys - before;
  }

  /** Evicts one key by the policy; false if none can go. */
  #evictOne(): boolean {
    const victim = this.#traits.rank === "random" ? this.#randomVictim() : this.#pooledVictim();
    if (victim === undefined) return false;
    const { db, key } = victim;
    this.#host.database(db).remove(key);
    this.evictedKeys++;
    this.onEvicted?.(db, key);
    return true;
  }

  /** Whether database `db` has keys the policy may evict. */
  #evictable(db: number): boolean {
    const engine = this.#host.database(db).engine;
    return this.#traits.volatileOnly ? engine.expiringCount > 0 : engine.size > 0;
  }

  /** allkeys-random / volatile-random: any key of the first database that has one. */
  #randomVictim(): { db: number; key: string } | undefined {
    for (let db = 0; db < this.#host.databaseCount; db++) {
      if (!this.#evictable(db)) continue;
      const engine = this.#host.database(db).engine;
      const key = this.#traits.volatileOnly ? this.#nextVolatile(db)?.[0] : engine.randomKey();
      if (key !== undefined) return { db, key };
    }
    return undefined;
  }

  /** LRU, LFU, TTL: sampling rounds into the pool, then its best live candidate. */
  #pooledVictim(): { db: number; key: string } | undefined {
    const host = this.#host;
    for (let round = 0; round < MAX_EMPTY_ROUNDS; round++) {
      let any = false;
      for (let db = 0; db < host.databaseCount; db++) {
        if (!this.#evictable(db)) continue;
        any = true;
        this.#sample(db);
      }
      if (!any) return undefined;
      for (let best = this.#pool.takeBest(); best !== undefined; best = this.#pool.takeBest()) {
        const engine = host.database(best.db).engine;
        // Deleted or (volatile) persisted since it was sampled: the next.
        if (engine.get(best.key, false) === undefined) continue;
        if (this.#traits.volatileOnly && engine.expiresAt(best.key) === 0) continue;
        return best;
      }
    }
    return undefined;
  }

  /** Offers `samples` keys of database `db` to the pool with their scores. */
  #sample(db: number): void {
    const engine = this.#host.database(db).engine;
    const samples = this.#settings.samples;
    if (this.#traits.volatileOnly) {
      for (let i = 0; i < samples; i++) {
        const next = this.#nextVolatile(db);
        if (next === undefined) return;
        const [key, expiresAtMs] = next;
        const score = this.#traits.rank === "ttl" ? -expiresAtMs : this.#score(engine, key);
        if (score !== undefined) this.#pool.offer(db, key, score);
      }
      return;
    }
    const partitions = engine.partitionCount;
    for (let i = 0; i < samples; i++) {
      // A random partition that has keys, then a random key in it.
      let p = Math.floor(Math.random() * partitions);
      let table = engine.partition(p).values;
      for (let tries = 0; table.size === 0 && tries < partitions; tries++) {
        p = (p + 1) % partitions;
        table = engine.partition(p).values;
      }
      const entry = table.randomEntry(Math.random());
      if (entry < 0) return;
      this.#pool.offer(db, table.keyAt(entry), this.#scoreOfWord(table.accessedAt(entry)));
    }
  }

  /** `key`'s eviction score by its access word; undefined without the key. */
  #score(engine: Database["engine"], key: string): number | undefined {
    const facts = engine.objectFacts(key);
    return facts === undefined ? undefined : this.#scoreOfWord(facts.accessedAt);
  }

  /** Higher evicts first: idle seconds (LRU), or 255 minus the decayed counter (LFU). */
  #scoreOfWord(word: number): number {
    if (this.#traits.rank === "lfu") {
      return 255 - lfuCounter(word, accessClockMs(), this.#settings.lfuDecayMinutes);
    }
    return idleSeconds(word);
  }

  /**
   * The next key with an expiry time in database `db`, walking its
   * partitions round-robin from where the last call stopped (over rounds
   * every key is seen, and the pool keeps the best).
   */
  #nextVolatile(db: number): [string, number] | undefined {
    const engine = this.#host.database(db).engine;
    const cursor = this.#cursors[db] ??= { partition: 0, entry: 0, expiresAtMs: 0 };
    for (let empty = 0; empty <= engine.partitionCount;) {
      if (cursor.partition >= engine.partitionCount) cursor.partition = 0;
      const key = engine.nextVolatile(cursor);
      if (key !== undefined) return [key, cursor.expiresAtMs];
      empty++;
    }
    return undefined;
  }
}

/**
 * Redis's reply to a write refused for memory.
 *
 * @example
 * ```ts
 * outOfMemory().code; // "OOM"
 * ```
 */
export function outOfMemory(): CommandError {
  const text = "command not allowed when used memory > 'maxmemory'.";
  return new CommandError("OOM", text, text);
}
