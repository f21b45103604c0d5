/**
 * Tests' in-process executor: runs commands against `store` (no server, no
 * sockets) and returns each reply as the RESP bytes a client would read,
 * as a binary string.
 *
 * @example
 * ```ts
 * const run = executorRunner(new Store(new Engine(4), undefined));
 * await run("SET", "k", "v"); // "+OK\r\n"
 * ```
 * @module
 */

import { Executor } from "./executor.ts";
import { newSession } from "./command_spec.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import { RespReplyWriter } from "../protocol/resp_writer.ts";
import type { Store } from "../storage/store.ts";
import { bytesToBinary } from "../bytes/binary_string.ts";

/** A function that runs one command on a fresh executor of `store` and returns its reply. */
export function executorRunner(store: Store): (...args: string[]) => Promise<string> {
  const executor = new Executor(store, { readOnly: false });
  const out = new OutBuffer(256);
  const w = new RespReplyWriter(out);
  const session = newSession();
  return async (...args) => {
    out.reset();
    await executor.execute(args, w, session);
    return bytesToBinary(out.view());
  };
}
