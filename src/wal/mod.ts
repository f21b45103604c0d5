/**
 * kvdb's write-ahead log: segmented, checksummed (chained CRC-32),
 * group-committed, crash-safe recovery, plus check/repair for operators and
 * a record reader for replication.
 *
 * Files, one job each: `record.ts` (types, ops, limits), `encoder.ts`
 * (frame layout), `decoder.ts`, `segment.ts` (names, header, listing),
 * `wal.ts` (writer, group commit, rotation), `recovery.ts` (replay),
 * `reader.ts` (streaming reads), `check.ts`, `repair.ts`, `errors.ts`.
 *
 * @example
 * ```ts
 * import { Wal, WalOp } from "./src/wal/mod.ts";
 * const wal = await Wal.open({ dir: "./data/wal", maxSegmentBytes: 10 << 20, batchSize: 100, batchTimeoutMs: 10, logger }, apply);
 * wal.append(WalOp.Set, 0, "key", "value", 0);
 * await wal.commit();
 * ```
 * @module
 */

export * from "./record.ts";
export * from "./errors.ts";
export * from "./encoder.ts";
export * from "./decoder.ts";
export * from "./segment.ts";
export * from "./wal.ts";
export * from "./reader.ts";
export * from "./recovery.ts";
export * from "./check.ts";
export * from "./repair.ts";
export * from "./lock.ts";
