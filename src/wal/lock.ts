/**
 * One process per data directory: an exclusive advisory lock (flock) on the
 * directory itself, held for as long as the WAL is open. Two servers (or a
 * server and `kvdb cli`, or a `kvdb wal repair`) on one log would
 * interleave LSNs and destroy it; the second one is refused with a clear
 * message. The kernel drops the lock when the process dies, so a crash
 * never leaves a stale lock behind.
 *
 * Why the directory and not a file in it: a lock on a file is lost with
 * the file. `rm DIR/LOCK` (or replacing it) while a server runs let a
 * second server lock a new `LOCK` and write the same log. A directory
 * cannot be unlinked while it holds the log, and whatever happens to the
 * files in it, its lock stays with the running server.
 *
 * `LOCK` still exists, but only as a note: the holder's PID, for the
 * refusal message. Writing it also proves, before anything is loaded, that
 * the process can create files in the directory (a read-only directory is
 * refused here, clearly, not halfway through the start).
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

/** The note naming the lock holder's PID inside a WAL directory. */
export const LOCK_FILE = "LOCK";

/** Temporary name of the note while it is written (renamed over `LOCK`). */
export const LOCK_TMP_FILE = "LOCK.tmp";

/** How long to retry a lock another process may be about to release. */
const LOCK_WAIT_MS = 1000;
/** Pause between attempts while waiting. */
const LOCK_RETRY_MS = 25;

/**
 * The directory is in use by another process.
 *
 * @example
 * ```ts
 * if (e instanceof WalLockedError) console.error(e.holderPid);
 * ```
 */
export class WalLockedError extends Error {
  constructor(readonly dir: string, readonly holderPid: number | undefined) {
    super(
      `WAL directory ${dir} is in use by another kvdb process` +
        (holderPid === undefined ? "" : ` (pid ${holderPid})`) +
        " holding the lock on the directory; stop it first, or use another wal.data_directory",
    );
    this.name = "WalLockedError";
  }
}

/**
 * The directory exists but this process cannot create files in it.
 *
 * @example
 * ```ts
 * if (e instanceof WalDirectoryNotWritableError) console.error(e.message);
 * ```
 */
export class WalDirectoryNotWritableError extends Error {
  constructor(readonly dir: string, cause: unknown) {
    super(
      `WAL directory ${dir} is not writable (${
        cause instanceof Error ? cause.message : String(cause)
      }): kvdb writes its log, snapshots and lock there; fix its permissions or mount, ` +
        "or use another wal.data_directory",
      { cause },
    );
    this.name = "WalDirectoryNotWritableError";
  }
}

/**
 * Takes the exclusive lock on `dir` (which must exist) and writes this
 * process's PID to `LOCK`; the returned handle (the open directory) holds
 * the lock until closed. Throws {@link WalLockedError} if another process
 * (or another open in this one) holds it, and
 * {@link WalDirectoryNotWritableError} if no file can be created in `dir`.
 *
 * @example
 * ```ts
 * const lock = await lockDirectory(dir);
 * ```
 */
export async function lockDirectory(dir: string): Promise<Deno.FsFile> {
  const handle = await Deno.open(dir, { read: true });
  try {
    const deadline = Date.now() + LOCK_WAIT_MS;
    while (!await handle.tryLock(true)) {
      if (Date.now() >= deadline) throw new WalLockedError(dir, await readHolderPid(dir));
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
    try {
      await Deno.writeTextFile(join(dir, LOCK_TMP_FILE), `${Deno.pid}\n`);
      await Deno.rename(join(dir, LOCK_TMP_FILE), join(dir, LOCK_FILE));
    } catch (e) {
      throw new WalDirectoryNotWritableError(dir, e);
    }
    return handle;
  } catch (e) {
    handle.close();
    throw e;
  }
}

/**
 * Whether another process holds the lock on `dir` right now (for read-only
 * tools, which do not take it): tries it and lets go at once.
 *
 * @example
 * ```ts
 * if (await isDirectoryLocked(dir)) console.log("a server is running on", dir);
 * ```
 */
export async function isDirectoryLocked(dir: string): Promise<boolean> {
  const handle = await Deno.open(dir, { read: true });
  try {
    return !await handle.tryLock(true);
  } finally {
    handle.close();
  }
}

/** The PID in `LOCK`, if it holds one (read bounded: it is only a note). */
async function readHolderPid(dir: string): Promise<number | undefined> {
  const buf = new Uint8Array(32);
  try {
    const file = await Deno.open(join(dir, LOCK_FILE), { read: true });
    try {
      const n = await file.read(buf) ?? 0;
      const pid = Number(new TextDecoder().decode(buf.subarray(0, n)).trim());
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } finally {
      file.close();
    }
  } catch {
    return undefined;
  }
}
