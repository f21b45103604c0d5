/**
 * What the readers of a collection held inline share (`PackedList`,
 * `PackedSet`, `PackedZset`, `PackedHash`, each beside its type): the
 * bytes they read and where those start and end, taken from the engine's
 * view when made. Valid until the keyspace next changes: a command reads
 * first, then logs its records.
 *
 * @example
 * ```ts
 * class PackedThing extends PackedReader {
 *   get size(): number {
 *     return this.end - this.start;
 *   }
 * }
 * ```
 * @module
 */

import type { PackedView } from "../storage/engine.ts";

/** A reader of packed bytes (see the module doc). */
export abstract class PackedReader {
  protected readonly bytes: Uint8Array;
  protected readonly start: number;
  protected readonly end: number;

  constructor(view: PackedView) {
    this.bytes = view.bytes;
    this.start = view.start;
    this.end = view.start + view.length;
  }
}
