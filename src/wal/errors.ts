/**
 * Errors the WAL raises. Each says what happened and what the operator can do.
 *
 * @example
 * ```ts
 * try {
 *   await Wal.open(options, apply);
 * } catch (e) {
 *   if (e instanceof WalCorruptError) console.error(e.file, e.offset);
 * }
 * ```
 * @module
 */

/**
 * A record or segment header that cannot be trusted, somewhere a torn write
 * cannot explain it. Recovery stops: replaying past it could resurrect or
 * lose data silently.
 *
 * @example
 * ```ts
 * throw new WalCorruptError("/data/wal/0000000000000001.wal", 4096, "checksum mismatch");
 * ```
 */
export class WalCorruptError extends Error {
  /** Path of the damaged segment file. */
  readonly file: string;
  /** Byte offset of the damaged record or header field in that file. */
  readonly offset: number;
  /** What is wrong there. */
  readonly reason: string;

  constructor(file: string, offset: number, reason: string) {
    super(
      `WAL corrupt: ${file} at byte offset ${offset}: ${reason} ` +
        `(inspect with "kvdb wal check --dir DIR", cut the log there with "kvdb wal repair --dir DIR")`,
    );
    this.name = "WalCorruptError";
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * A write or fsync failed. Nothing appended since the last successful fsync
 * is durable; the WAL refuses appends until the process restarts (recovery
 * then decides what reached the disk).
 *
 * @example
 * ```ts
 * if (wal.failure instanceof WalFailedError) console.error(wal.failure.cause);
 * ```
 */
export class WalFailedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WalFailedError";
  }
}

/**
 * An append after `close()` began.
 *
 * @example
 * ```ts
 * await wal.close();
 * wal.append(WalOp.Del, 0, "k", "", 0); // throws WalClosedError
 * ```
 */
export class WalClosedError extends Error {
  constructor() {
    super("WAL is closed");
    this.name = "WalClosedError";
  }
}

/**
 * An append that would grow the pending (not yet written) bytes past their
 * limit: the disk cannot keep up. The WAL stays healthy; the caller should
 * reject this write and stop reading requests until commits catch up.
 *
 * @example
 * ```ts
 * try { wal.append(WalOp.Set, 0, k, v, 0); } catch (e) { if (e instanceof WalOverloadError) reply("ERROR: busy"); }
 * ```
 */
export class WalOverloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WalOverloadError";
  }
}

/**
 * A write or fsync failed and the log could not be cut back to its last
 * durable record either: what reached the disk is unknown until recovery
 * reads it at the next start. Nothing pending may be called durable or not.
 *
 * @example
 * ```ts
 * if (wal.failure instanceof WalOutcomeUnknownError) reply("write outcome unknown");
 * ```
 */
export class WalOutcomeUnknownError extends WalFailedError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WalOutcomeUnknownError";
  }
}
