/**
 * CONFIG REWRITE: writes the running configuration back into the YAML file
 * the server was started with, through the `yaml` package's Document API,
 * so comments, key order and untouched values stay as the user wrote
 * them. Only keys whose running value differs from what the file says
 * (or implies by default) are written; the file is replaced atomically
 * (a temporary file renamed over it).
 *
 * @example
 * ```ts
 * rewriteConfigFile("kvdb.yaml", admin.values);
 * ```
 * @module
 */

import { isMap, parseDocument } from "yaml";
import {
  type Address,
  CONFIG_KEYS,
  configValues,
  formatAddress,
  type RuleKind,
} from "../config/config.ts";
import { formatSize } from "../config/units.ts";

/** A duration in ms in the largest unit that divides it (`5m`, `10ms`); 0 as 0. */
export function formatDuration(ms: number): string | number {
  if (ms === 0) return 0;
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A running value as YAML writes it for its key's rule. */
function yamlValue(path: string, kind: RuleKind, value: unknown): unknown {
  if (path === "wal.snapshot_threshold" && value === 0) return "auto";
  switch (kind.kind) {
    case "size":
      return formatSize(value as number);
    case "duration":
      return formatDuration(value as number);
    case "address":
      return formatAddress(value as Address);
    case "debug_mode":
      return value === "local" ? "local" : value === "yes";
    default:
      return value;
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Rewrites `path` so that it holds `values` (the running value of every
 * YAML key), durably (written beside it, fsynced, renamed over it). Throws
 * with the reason when the file cannot be read, parsed or written.
 * Synchronous, as Redis's: a config file is small, and CONFIG REWRITE
 * runs inside MULTI/EXEC (Sentinel sends it with SLAVEOF), where every
 * command replies at once.
 *
 * @example
 * ```ts
 * rewriteConfigFile("kvdb.yaml", values); // comments kept
 * ```
 */
export function rewriteConfigFile(path: string, values: ReadonlyMap<string, unknown>): void {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    // A file removed since the start is written anew (as Redis does).
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`${path} is not valid YAML: ${doc.errors[0].message}`);
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new Error(`${path} is not a YAML mapping of sections`);
  }
  const inFile = configValues(doc.toJS(), path);
  for (const key of CONFIG_KEYS) {
    const running = values.get(key.path);
    if (running === undefined || same(running, inFile.get(key.path))) continue;
    doc.setIn(key.path.split("."), yamlValue(key.path, key.rule.spec, running));
  }
  const out = doc.toString();
  const tmp = `${path}.rewrite.tmp`;
  try {
    const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    try {
      file.writeSync(new TextEncoder().encode(out));
      file.syncSync();
    } finally {
      file.close();
    }
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // Never written: nothing to remove.
    }
    throw e;
  }
}
