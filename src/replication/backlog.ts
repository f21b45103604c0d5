/**
 * The master's replication backlog: the most recent log records, kept in
 * memory so that replicas that are keeping up are fed without reading the
 * segment files back (a replica further behind is served from the files).
 *
 * It sits between the store and the WAL as a {@link LogWriter}: every
 * record the store appends passes through it, in LSN order. It keeps at most
 * `maxBytes` of keys and values (oldest dropped first), and only while it is
 * active: from the first replica's arrival until it is released, as Redis
 * creates its backlog for the first replica and frees it `repl-backlog-ttl`
 * after the last one left. A master no replica ever followed keeps nothing:
 * 16 MiB of records held as objects cost the heap ~40 MB, and, promoted
 * to the old generation, made its mark-compact pauses (270 ms seen here
 * under a 1M-key snapshot) and every durable write pay for them.
 *
 * @example
 * ```ts
 * const backlog = new ReplicationBacklog(wal, 16 * 1024 * 1024);
 * const store = new Store(engine, backlog);
 * backlog.activate(); // a replica arrived
 * backlog.slice(firstWanted, wal.durableLsn, 256 * 1024); // records or undefined
 * ```
 * @module
 */

import type { LogWriter } from "../storage/store.ts";
import { WalFlag, type WalRecord } from "../wal/record.ts";

/** Bytes a record is charged in the backlog beyond its key and value. */
const RECORD_OVERHEAD_BYTES = 64;

/**
 * A LogWriter that remembers what it writes.
 *
 * @example
 * ```ts
 * new ReplicationBacklog(wal, 1 << 24).append(1, 0, "k", "v", 0);
 * ```
 */
export class ReplicationBacklog implements LogWriter {
  readonly #log: LogWriter;
  readonly #maxBytes: number;
  #records: WalRecord[] = [];
  /** Index of the oldest kept record in `#records` (older ones are dropped). */
  #head = 0;
  #bytes = 0;
  #groupDepth = 0;
  #groupRecords = 0;
  #active = false;

  constructor(log: LogWriter, maxBytes: number) {
    this.#log = log;
    this.#maxBytes = maxBytes;
  }

  /** Bytes of the records kept, as charged against `maxBytes` (memory accounting). */
  get bytes(): number {
    return this.#bytes;
  }

  get lastLsn(): number {
    return this.#log.lastLsn;
  }

  get durableLsn(): number {
    return this.#log.durableLsn;
  }

  commit(): Promise<void> {
    return this.#log.commit();
  }

  append(op: number, db: number, key: string, value: string, expiresAtMs: number): number {
    const lsn = this.#log.append(op, db, key, value, expiresAtMs);
    // As the log does (wal.ts): the record before, in the same group, continues.
    if (this.#groupDepth > 0 && this.#groupRecords++ > 0) {
      const previous = this.#records[this.#records.length - 1];
      if (previous?.lsn === lsn - 1) previous.flags = WalFlag.Continues;
    }
    if (this.#active) this.#remember({ lsn, op, db, key, value, expiresAtMs });
    return lsn;
  }

  beginGroup(): void {
    if (this.#groupDepth++ === 0) this.#groupRecords = 0;
    this.#log.beginGroup();
  }

  endGroup(): void {
    this.#groupDepth--;
    this.#log.endGroup();
  }

  /** As the log's (wal.ts): the group's last record continues, so the group stays torn. */
  abandonGroup(): void {
    this.#groupDepth--;
    if (this.#groupRecords > 0) {
      const last = this.#records[this.#records.length - 1];
      if (last !== undefined) last.flags = WalFlag.Continues;
    }
    this.#log.abandonGroup?.();
  }

  appendAt(
    lsn: number,
    op: number,
    db: number,
    key: string,
    value: string,
    expiresAtMs: number,
    flags = 0,
  ): number {
    this.#log.appendAt(lsn, op, db, key, value, expiresAtMs, flags);
    if (this.#active) this.#remember({ lsn, op, db, key, value, expiresAtMs, flags });
    return lsn;
  }

  async discardAll(): Promise<void> {
    await this.#log.discardAll();
    this.clear();
  }

  async truncateAfter(lsn: number, why: string): Promise<string> {
    const backup = await this.#log.truncateAfter(lsn, why);
    // Records kept in memory past the cut would be sent to replicas.
    this.clear();
    return backup;
  }

  /**
   * Starts keeping records (a replica arrived); the records before this
   * are read from the segment files.
   */
  activate(): void {
    this.#active = true;
  }

  /** Forgets every record and keeps none until {@link activate}. */
  release(): void {
    this.#active = false;
    this.clear();
  }

  /** Whether it keeps records. */
  get active(): boolean {
    return this.#active;
  }

  /** LSN of the oldest record kept, or undefined when empty. */
  get firstLsn(): number | undefined {
    return this.#head < this.#records.length ? this.#records[this.#head].lsn : undefined;
  }

  /**
   * Records from `fromLsn` up to `toLsn`, at most about `maxBytes` of them
   * (at least one); undefined if `fromLsn` is no longer (or not yet) kept.
   */
  slice(fromLsn: number, toLsn: number, maxBytes: number): WalRecord[] | undefined {
    const first = this.firstLsn;
    if (first === undefined || fromLsn < first || fromLsn > toLsn) return undefined;
    const start = this.#head + (fromLsn - first);
    if (start >= this.#records.length) return undefined;
    const out: WalRecord[] = [];
    let bytes = 0;
    // A frame ends at a group's end (WalFlag), so a replica applies groups whole.
    let continues = false;
    for (let i = start; i < this.#records.length && (bytes < maxBytes || continues); i++) {
      const record = this.#records[i];
      if (record.lsn > toLsn) break;
      out.push(record);
      bytes += record.key.length + record.value.length + RECORD_OVERHEAD_BYTES;
      continues = ((record.flags ?? 0) & WalFlag.Continues) !== 0;
    }
    return out;
  }

  /** Forgets everything (the log was discarded). */
  clear(): void {
    this.#records = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  #remember(record: WalRecord): void {
    const last = this.#records.length > this.#head
      ? this.#records[this.#records.length - 1].lsn
      : undefined;
    // A gap (a replica starting over elsewhere) makes older records useless.
    if (last !== undefined && record.lsn !== last + 1) this.clear();
    this.#records.push(record);
    this.#bytes += record.key.length + record.value.length + RECORD_OVERHEAD_BYTES;
    while (this.#bytes > this.#maxBytes && this.#head < this.#records.length - 1) {
      const old = this.#records[this.#head++];
      this.#bytes -= old.key.length + old.value.length + RECORD_OVERHEAD_BYTES;
    }
    // Compact the array once the dropped prefix dominates it.
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }
}
