/**
 * Backups of what recovery and `kvdb wal repair` take out of the log:
 * nothing is cut or removed before its bytes are copied (or the file moved)
 * into `DIR/repair-backup-<UTC time>/` and made durable. The WAL listing
 * (`segment.ts`) accepts these directories as the log's own, so a backup
 * never stops a start.
 *
 * @module
 */

import { join } from "node:path";
import { syncDir } from "./segment.ts";

/**
 * Prefix of a backup directory's name inside a WAL directory.
 *
 * @example
 * ```ts
 * name.startsWith(BACKUP_DIR_PREFIX);
 * ```
 */
export const BACKUP_DIR_PREFIX = "repair-backup-";

/** Bytes copied per read. */
const COPY_CHUNK_BYTES = 1024 * 1024;
/** Attempts at a fresh name before giving up. */
const MAX_NAME_ATTEMPTS = 100;

/**
 * Creates `DIR/repair-backup-<stamp>[-n]/`, never reusing an existing one,
 * and makes its entry durable.
 *
 * @example
 * ```ts
 * const backup = await makeBackupDir(dir, new Date());
 * ```
 */
export async function makeBackupDir(dir: string, now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  for (let attempt = 1; attempt <= MAX_NAME_ATTEMPTS; attempt++) {
    const path = join(dir, `${BACKUP_DIR_PREFIX}${stamp}${attempt === 1 ? "" : `-${attempt}`}`);
    try {
      await Deno.mkdir(path);
      await syncDir(dir);
      return path;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  throw new Error(
    `could not create a backup directory in ${dir} after ${MAX_NAME_ATTEMPTS} attempts`,
  );
}

/**
 * Copies `[from, to)` of `source` into a new file `target` and fsyncs it.
 *
 * @example
 * ```ts
 * await copyRange(segment, 4096, size, join(backup, "x.cut-at-4096"));
 * ```
 */
export async function copyRange(
  source: string,
  from: number,
  to: number,
  target: string,
): Promise<void> {
  const buf = new Uint8Array(COPY_CHUNK_BYTES);
  const input = await Deno.open(source, { read: true });
  try {
    await input.seek(from, Deno.SeekMode.Start);
    const output = await Deno.open(target, { write: true, createNew: true });
    try {
      let left = to - from;
      while (left > 0) {
        const n = await input.read(buf.subarray(0, Math.min(buf.length, left)));
        if (n === null) break;
        for (let at = 0; at < n;) at += await output.write(buf.subarray(at, n));
        left -= n;
      }
      await output.sync();
    } finally {
      output.close();
    }
  } finally {
    input.close();
  }
}

/**
 * Writes a note into a backup directory, durably.
 *
 * @example
 * ```ts
 * await writeNote(backup, "REPAIR.txt", ["first damage: ..."]);
 * ```
 */
export async function writeNote(backupDir: string, name: string, lines: string[]): Promise<void> {
  const file = await Deno.open(join(backupDir, name), { write: true, createNew: true });
  try {
    const bytes = new TextEncoder().encode(lines.join("\n") + "\n");
    for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
    await file.sync();
  } finally {
    file.close();
  }
}
