/**
 * WAL record types, op codes and the limits every record obeys.
 *
 * A record logs the effect of a command (the value written, the key deleted),
 * never the command text, so that replay is deterministic and idempotent.
 *
 * @example
 * ```ts
 * const entry: WalEntry = { op: WalOp.Set, db: 0, key: "k", value: "v", expiresAtMs: 0 };
 * ```
 * @module
 */

/**
 * Record op codes (one byte on disk). Never renumber: they are on disk.
 *
 * - `Set`: key, value, expiresAtMs (0 = no expiry).
 * - `Del`: key.
 * - `FlushAll`: no key.
 * - `PExpireAt`: key, expiresAtMs (0 = persist); the value is not rewritten.
 * - `SetRange`: key, the bytes to write (value), and in the record's numeric
 *   field (`expiresAtMs`, the same 8 bytes on disk) the byte offset to write
 *   them at. The string grows as needed, zero-filled; its expiry is kept; a
 *   missing key is created. APPEND logs one at the old length, so appending
 *   costs the bytes appended, not the whole value. Replaying it over a state
 *   that already holds it changes nothing (overwrites only, lengths only
 *   grow), so snapshots taken while writes go on stay exact after replay.
 *
 * - `FlushDb`: no key; empties the record's database.
 * - `SwapDb`: no key; swaps the record's database with the one whose index
 *   is in the numeric field.
 * - `HashSet`: key, the field and its value concatenated (value), and the
 *   field's length in the numeric field. Sets one field of the hash at key;
 *   a missing key (or, on replay over a newer state, a key of another
 *   type) becomes a new hash; the expiry is kept. A command that sets n
 *   fields logs n of them, one group: no record grows with the hash.
 * - `HashDel`: key, the field (value). Removes one field; the last field
 *   gone deletes the key (as Redis does). A missing key or field, or
 *   another type (replay over a newer state), changes nothing.
 * - `ListPush`: key, the element (value), and 0 (to the head) or 1 (to the
 *   tail) in the numeric field. A missing key (or, on replay over a newer
 *   state, a key of another type) becomes a new list; the expiry is kept.
 *   LPUSH of n elements logs n of them, one group.
 * - `ListPop`: key, no value, `count * 2 + (0 from the head, 1 from the
 *   tail)` in the numeric field, count ≥ 1: removes that many elements (at
 *   most all) from one end; the last gone deletes the key. LPOP, LTRIM (a
 *   pop at each end), LMOVE (a pop, then a push to the destination).
 * - `ListSet`: key, the element, its index (0-based from the head): LSET.
 * - `ListInsert`: key, the element, the index it takes (0..length): LINSERT.
 * - `ListRemove`: key, the element, LREM's signed count zigzag-encoded
 *   (`2c` for c ≥ 0, `-2c - 1` below): removes as LREM does; the last
 *   element gone deletes the key.
 *
 *   List records are not idempotent: replay applies each exactly once,
 *   over a snapshot that is the state at its LSN (see
 *   `snapshot/take_snapshot.ts`). On a missing key or another type, every
 *   list record but `ListPush` changes nothing.
 * - `SetAdd`: key, the member (value), a flag in the numeric field: 1 =
 *   the set is a hashtable from this record on (Redis keeps a set of
 *   integers that was once a hashtable as one; COPY and the *STORE commands
 *   log it on their first record), else 0. Adds one member; a missing key
 *   (or, on replay over a newer state, another type) becomes a new set.
 * - `SetRem`: key, the member (value), a flag: 1 = after this removal the
 *   set is rebuilt, encoded by its contents (SPOP taking most of a set, as
 *   Redis does), else 0. Removes one member; the last gone deletes the key.
 *   SPOP logs one per member it took: replay and replicas take the same.
 * - `ZsetAdd`: key, a score's 8 bytes (IEEE-754 double, little-endian)
 *   then the member (value); numeric field 0. Sets the member's score in
 *   the sorted set at key (ZINCRBY and ZADD INCR log the resulting score);
 *   a missing key (or another type, replaying over a newer state) becomes
 *   a new sorted set; the expiry is kept.
 * - `ZsetRem`: key, the member (value). Removes one member; the last gone
 *   deletes the key. A missing key or member, or another type, changes
 *   nothing.
 * - `Rename`: key, the new name (value), and in the numeric field the
 *   database it goes to (RENAME: the record's own; MOVE: another). Moves
 *   whatever the key holds — any type, its expiry with it — replacing what
 *   the new name held, in O(1) whatever the value's size: a RENAME or MOVE
 *   of a collection of millions of elements is one small record. A missing
 *   key changes nothing.
 *
 * - `StreamAdd` ... `StreamPendingDel` (50–59): a stream's effects, each
 *   with its value laid out as `types/stream/stream_wal.ts` documents
 *   (an entry with the ID XADD resolved — never `*` — and whether it
 *   starts a node; a deletion; a trim; the counters; a group, consumer or
 *   pending entry set or deleted). The numeric field is 0. Like list
 *   records, they replay exactly once over the snapshot at their LSN; on a
 *   key of another type they change nothing (but `StreamAdd` and
 *   `StreamMeta`, which make a stream there).
 *
 * Every record also names its database (`db`, 0 in logs written before
 * databases existed, whose bytes there were reserved zeros), and carries
 * `flags` ({@link WalFlag}).
 *
 * @example
 * ```ts
 * wal.append(WalOp.Del, 0, "k", "", 0);
 * ```
 */
export const WalOp = {
  Set: 1,
  Del: 2,
  FlushAll: 3,
  PExpireAt: 4,
  SetRange: 5,
  FlushDb: 6,
  SwapDb: 7,
  HashSet: 8,
  HashDel: 9,
  ListPush: 10,
  ListPop: 11,
  ListSet: 12,
  ListInsert: 13,
  ListRemove: 14,
  SetAdd: 20,
  SetRem: 21,
  ZsetAdd: 30,
  ZsetRem: 31,
  Rename: 40,
  StreamAdd: 50,
  StreamDel: 51,
  StreamTrim: 52,
  StreamMeta: 53,
  StreamGroupSet: 54,
  StreamGroupDel: 55,
  StreamConsumerSet: 56,
  StreamConsumerDel: 57,
  StreamPendingSet: 58,
  StreamPendingDel: 59,
  /** A function library loaded or replaced (key: its name, value: its code). */
  FunctionLoad: 60,
  /** A function library deleted (key: its name). */
  FunctionDelete: 61,
  /** Every function library deleted (FUNCTION FLUSH, a RESTORE FLUSH). */
  FunctionFlush: 62,
} as const;

/**
 * Record flags (one byte on disk, zero in logs written before them).
 *
 * - `Continues`: the next record belongs to the same group. The records of
 *   one command (MSET's keys, a RENAME's delete and set) or of one
 *   transaction form a group: the last has the flag clear. A group is
 *   all-or-nothing: recovery drops a trailing group that the log does not
 *   hold whole (a crash cut it; none of it was acknowledged), and a replica
 *   applies a group only once it has all of it.
 *
 * @example
 * ```ts
 * wal.append(WalOp.Del, 0, "a", "", 0, WalFlag.Continues);
 * wal.append(WalOp.Set, 0, "b", "v", 0); // ends the group
 * ```
 */
export const WalFlag = { Continues: 1 } as const;

/**
 * Every {@link WalFlag} bit this kvdb knows; a record with another set was
 * written by something else.
 *
 * @example
 * ```ts
 * (flags & ~WAL_KNOWN_FLAGS) === 0;
 * ```
 */
export const WAL_KNOWN_FLAGS = WalFlag.Continues;

/**
 * One of the {@link WalOp} codes.
 *
 * @example
 * ```ts
 * const op: WalOpCode = WalOp.Set;
 * ```
 */
export type WalOpCode = typeof WalOp[keyof typeof WalOp];

/**
 * What a record says, without its position in the log. `key` and `value`
 * are binary strings (one byte per char); `""` when the op does not use them.
 *
 * @example
 * ```ts
 * const entry: WalEntry = { op: WalOp.PExpireAt, db: 0, key: "k", value: "", expiresAtMs: 1_700_000_000_000 };
 * ```
 */
export interface WalEntry {
  op: number;
  /** Database index, [0, {@link WAL_MAX_DB}]. */
  db: number;
  key: string;
  value: string;
  /**
   * Absolute expiry time in Unix ms; 0 = none. For `SetRange`, the byte
   * offset instead (see {@link WalOp}).
   */
  expiresAtMs: number;
}

/**
 * A record at its place in the log: LSNs start at 1 and are contiguous.
 *
 * @example
 * ```ts
 * const record: WalRecord = { lsn: 1, op: WalOp.FlushAll, db: 0, key: "", value: "", expiresAtMs: 0 };
 * ```
 */
export interface WalRecord extends WalEntry {
  lsn: number;
  /** {@link WalFlag} bits; absent means 0. */
  flags?: number;
}

/**
 * Largest key a record holds. Far above any sane key; the server's own
 * request limits are expected to be much lower.
 *
 * @example
 * ```ts
 * if (key.length > WAL_MAX_KEY_BYTES) throw new RangeError("key too long");
 * ```
 */
export const WAL_MAX_KEY_BYTES = 1024 * 1024;

/**
 * Largest value a record holds. Bounded so that one record plus a batch fits
 * the writer's bounded buffer and a decoder never trusts a huge length field.
 *
 * @example
 * ```ts
 * if (value.length > WAL_MAX_VALUE_BYTES) throw new RangeError("value too long");
 * ```
 */
export const WAL_MAX_VALUE_BYTES = 64 * 1024 * 1024;

/**
 * Largest LSN or expiry time: both are stored as 53-bit integers so JS
 * numbers hold them exactly.
 *
 * @example
 * ```ts
 * Number.isSafeInteger(WAL_MAX_INTEGER); // true
 * ```
 */
export const WAL_MAX_INTEGER = Number.MAX_SAFE_INTEGER;

/**
 * Largest database index a record holds (two bytes on disk).
 *
 * @example
 * ```ts
 * WAL_MAX_DB; // 65535
 * ```
 */
export const WAL_MAX_DB = 0xffff;

const KNOWN_OPS: ReadonlySet<number> = new Set(Object.values(WalOp));

/**
 * Whether `op` is a known {@link WalOp} code.
 *
 * @example
 * ```ts
 * isWalOp(WalOp.Set); // true
 * isWalOp(99); // false
 * ```
 */
export function isWalOp(op: number): op is WalOpCode {
  return KNOWN_OPS.has(op);
}

/**
 * Why an entry is not valid for its op, or `undefined` if it is. The rules
 * keep unused fields empty so that a record has exactly one encoding.
 *
 * @example
 * ```ts
 * entryProblem(WalOp.Del, "k", "v", 0); // "DEL carries no value"
 * ```
 */
export function entryProblem(
  op: number,
  key: string,
  value: string,
  expiresAtMs: number,
): string | undefined {
  if (!Number.isSafeInteger(expiresAtMs) || expiresAtMs < 0) {
    return `expiresAtMs must be an integer in [0, 2^53), got ${expiresAtMs}`;
  }
  if (key.length > WAL_MAX_KEY_BYTES) {
    return `key of ${key.length} bytes exceeds ${WAL_MAX_KEY_BYTES}`;
  }
  if (value.length > WAL_MAX_VALUE_BYTES) {
    return `value of ${value.length} bytes exceeds ${WAL_MAX_VALUE_BYTES}`;
  }
  switch (op) {
    case WalOp.Set:
      return undefined;
    case WalOp.Del:
      if (value !== "") return "DEL carries no value";
      if (expiresAtMs !== 0) return "DEL carries no expiry";
      return undefined;
    case WalOp.FlushAll:
      if (key !== "" || value !== "") return "FLUSHALL carries no key or value";
      if (expiresAtMs !== 0) return "FLUSHALL carries no expiry";
      return undefined;
    case WalOp.PExpireAt:
      if (value !== "") return "PEXPIREAT carries no value";
      return undefined;
    case WalOp.FlushDb:
      if (key !== "" || value !== "") return "FLUSHDB carries no key or value";
      if (expiresAtMs !== 0) return "FLUSHDB carries no expiry";
      return undefined;
    case WalOp.SwapDb:
      if (key !== "" || value !== "") return "SWAPDB carries no key or value";
      if (expiresAtMs > WAL_MAX_DB) return `SWAPDB with database ${expiresAtMs}`;
      return undefined;
    case WalOp.SetRange:
      if (expiresAtMs + value.length > WAL_MAX_VALUE_BYTES) {
        return `SETRANGE past ${WAL_MAX_VALUE_BYTES} bytes (offset ${expiresAtMs})`;
      }
      return undefined;
    case WalOp.HashSet:
      if (expiresAtMs > value.length) {
        return `HSET field of ${expiresAtMs} bytes in a record of ${value.length}`;
      }
      return undefined;
    case WalOp.HashDel:
      if (expiresAtMs !== 0) return "HDEL carries no number";
      return undefined;
    case WalOp.Rename:
      if (key === "") return "RENAME carries a key";
      if (value.length > WAL_MAX_KEY_BYTES) return `RENAME to a name of ${value.length} bytes`;
      if (expiresAtMs > WAL_MAX_DB) return `RENAME to database ${expiresAtMs}`;
      return undefined;
    case WalOp.ListPush:
      if (expiresAtMs > 1) return `LIST PUSH to end ${expiresAtMs} (0 head, 1 tail)`;
      return undefined;
    case WalOp.ListPop:
      if (value !== "") return "LIST POP carries no value";
      if (expiresAtMs < 2) return `LIST POP of ${Math.floor(expiresAtMs / 2)} elements`;
      return undefined;
    case WalOp.ListSet:
    case WalOp.ListInsert:
    case WalOp.ListRemove:
      return undefined;
    case WalOp.SetAdd:
      if (expiresAtMs > 1) return `SADD with flag ${expiresAtMs}`;
      return undefined;
    case WalOp.SetRem:
      if (expiresAtMs > 1) return `SREM with flag ${expiresAtMs}`;
      return undefined;
    case WalOp.FunctionLoad:
      if (key === "") return "FUNCTION LOAD names a library";
      if (expiresAtMs !== 0) return "FUNCTION LOAD carries no number";
      return undefined;
    case WalOp.FunctionDelete:
      if (key === "") return "FUNCTION DELETE names a library";
      if (value !== "" || expiresAtMs !== 0) return "FUNCTION DELETE carries no value or number";
      return undefined;
    case WalOp.FunctionFlush:
      if (key !== "" || value !== "" || expiresAtMs !== 0) {
        return "FUNCTION FLUSH carries no key, value or number";
      }
      return undefined;
    case WalOp.ZsetAdd:
      if (expiresAtMs !== 0) return "ZADD carries no number";
      if (value.length < 8) return `ZADD record of ${value.length} bytes holds no score`;
      return undefined;
    case WalOp.ZsetRem:
      if (expiresAtMs !== 0) return "ZREM carries no number";
      return undefined;
    case WalOp.StreamAdd:
    case WalOp.StreamDel:
    case WalOp.StreamTrim:
    case WalOp.StreamMeta:
    case WalOp.StreamGroupSet:
    case WalOp.StreamGroupDel:
    case WalOp.StreamConsumerSet:
    case WalOp.StreamConsumerDel:
    case WalOp.StreamPendingSet:
    case WalOp.StreamPendingDel:
      if (expiresAtMs !== 0) return "a stream record carries no number";
      if (key === "" || value === "") return "a stream record carries a key and a value";
      return undefined;
    default:
      return `unknown op ${op}`;
  }
}
