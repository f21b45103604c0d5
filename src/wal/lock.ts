/**
 * One process per data directory: an exclusive advisory lock (flock) on
 * `LOCK` inside it, held for as long as the WAL is open. Two servers (or a
 * server and `kvdb cli`, or a `kvdb wal repair`) on one log would interleave
 * LSNs and destroy it; the second one is refused with a clear message. The
 * kernel drops the lock when the process dies, so a crash never leaves a
 * stale lock behind.
 *
 * @example
 * ```ts
 * const lock = await lockDirectory("/data/wal");
 * // ... use the log ...
 * lock.close();
 * ```
 * @module
 */

import { join } from "node:path";

/** The lock file's name inside a WAL directory. */
export const LOCK_FILE = "LOCK";

/** How long to wait for a lock another process may be about to release. */
const LOCK_WAIT_MS = 1000;

/** The directory is in use by another process. */
export class WalLockedError extends Error {
  constructor(readonly dir: string) {
    super(
      `WAL directory ${dir} is in use by another kvdb process (${LOCK_FILE} is locked); ` +
        "stop it first, or use another wal.data_directory",
    );
    this.name = "WalLockedError";
  }
}

/**
 * Takes the exclusive lock on `dir` (which must exist); the returned file
 * holds it until closed. Throws {@link WalLockedError} if another process
 * holds it.
 *
 * @example
 * ```ts
 * const lock = await lockDirectory(dir);
 * ```
 */
export async function lockDirectory(dir: string): Promise<Deno.FsFile> {
  const file = await Deno.open(join(dir, LOCK_FILE), {
    read: true,
    write: true,
    create: true,
  });
  // Deno's lock() has no non-blocking form; a bounded wait stands in.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), LOCK_WAIT_MS);
  });
  const locked = await Promise.race([file.lock(true).then(() => true), timedOut]);
  clearTimeout(timer);
  if (!locked) {
    file.close();
    throw new WalLockedError(dir);
  }
  return file;
}
