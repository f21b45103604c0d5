/**
 * A {@link LogWriter} for tests whose every commit fails (a disk that
 * refuses the fsync), with no reload: what the executor does then.
 *
 * ```ts
 * const store = new Store(new Engine(4), failingCommitLog());
 * ```
 *
 * @module
 */

import type { LogWriter } from "./store.ts";

/** A log that numbers appends and rejects every commit with "fsync failed". */
export function failingCommitLog(): LogWriter {
  let lsn = 0;
  return {
    append: () => ++lsn,
    commit: () => Promise.reject(new Error("fsync failed")),
    appendAt: () => {
      throw new Error("unused");
    },
    discardAll: () => Promise.resolve(),
    truncateAfter: () => Promise.resolve(""),
    beginGroup() {},
    endGroup() {},
    get lastLsn() {
      return lsn;
    },
    durableLsn: 0,
  };
}
