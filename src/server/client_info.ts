/**
 * A client as CLIENT LIST and CLIENT INFO describe it: redis-server
 * 7.0.15's fields, in its order —
 * `id addr laddr fd name age idle flags db sub psub ssub multi qbuf
 * qbuf-free argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd user
 * redir resp` — and its client types (normal, replica, pubsub, master).
 *
 * Where kvdb's connections differ from Redis's the fields are its own
 * measures: `fd` is -1 (Deno does not show a socket's descriptor), `qbuf`
 * the bytes of the last read not yet executed, `rbs`/`rbp` the read
 * buffer's size, `obl` the unsent output up to 16 KiB (Redis's reply buffer) and `omem`
 * the rest (`oll` 1 then), `tot-mem` what the client costs as
 * `maxmemory-clients` counts it (src/clients/client_memory.ts) plus argv-mem; `user` is `default` and `redir` -1 until ACLs and tracking exist.
 *
 * @example
 * ```ts
 * clientLine(client, client, ["CLIENT", "INFO"]); // "id=3 addr=127.0.0.1:50312 ..."
 * ```
 * @module
 */

import type { Client } from "./clients.ts";
import { clientMemoryBytes } from "../clients/client_memory.ts";

/** Redis's flag letters for a client (`catClientInfoString`), N when none. */
function flagsOf(client: Client): string {
  const session = client.session;
  let flags = "";
  if (client.monitor) flags += "O";
  else if (client.io.takenOver) flags += "S";
  if (session.subscriptions !== 0) flags += "P";
  if (session.multi !== undefined) flags += "x";
  if (client.registry.executor.blocking.isBlocked(client.id)) flags += "b";
  if (session.watcher?.dirty === true) flags += "d";
  if (session.closeAfterReply) flags += "c";
  if (client.killed) flags += "A";
  if (client.noEvict) flags += "e";
  return flags === "" ? "N" : flags;
}

/**
 * The client's type, as CLIENT LIST TYPE and CLIENT KILL TYPE name it
 * (Redis's `getClientType`: a MONITOR client is normal).
 */
export function clientType(client: Client): string {
  if (client.io.takenOver && !client.monitor) return "replica";
  if (client.session.subscriptions !== 0) return "pubsub";
  return "normal";
}

/** A type as given to TYPE (Redis's `getClientTypeByName`); undefined if unknown. */
export function typeByName(name: string): string | undefined {
  switch (name.toLowerCase()) {
    case "normal":
      return "normal";
    case "slave":
    case "replica":
      return "replica";
    case "pubsub":
      return "pubsub";
    case "master":
      return "master";
    default:
      return undefined;
  }
}

/** Redis's per-client reply buffer (obl counts output up to it, omem beyond). */
const STATIC_BUFFER_BYTES = 16 * 1024;

/**
 * One client's line. `self` is the client asking, whose current request
 * (`args`) counts as its argv-mem, as in Redis.
 */
export function clientLine(client: Client, self: Client, args: readonly string[]): string {
  const { session, io } = client;
  const now = Date.now();
  let argvBytes = 0;
  if (client === self) { for (const arg of args) argvBytes += arg.length; }
  const multiBytes = session.multi?.bytes ?? 0;
  const query = client === self ? io.queryBytes : 0;
  const out = io.outputBytes;
  const subs = client.subscriptions;
  const lookup = session.lastCommand;
  return [
    `id=${client.id}`,
    `addr=${client.addr}`,
    `laddr=${client.laddr}`,
    `fd=-1`,
    `name=${session.name}`,
    `age=${Math.floor((now - client.createdMs) / 1000)}`,
    `idle=${Math.floor((now - io.activeAt(now)) / 1000)}`,
    `flags=${flagsOf(client)}`,
    `db=${session.db}`,
    `sub=${subs.channels.size}`,
    `psub=${subs.patterns.size}`,
    `ssub=${subs.shardChannels.size}`,
    `multi=${session.multi?.commands.length ?? -1}`,
    `qbuf=${query}`,
    `qbuf-free=${Math.max(0, io.readBufferBytes - query)}`,
    `argv-mem=${argvBytes}`,
    `multi-mem=${multiBytes}`,
    `rbs=${io.readBufferBytes}`,
    `rbp=${io.readBufferBytes}`,
    `obl=${Math.min(out, STATIC_BUFFER_BYTES)}`,
    `oll=${out > STATIC_BUFFER_BYTES ? 1 : 0}`,
    `omem=${Math.max(0, out - STATIC_BUFFER_BYTES)}`,
    `tot-mem=${clientMemoryBytes(io, multiBytes) + argvBytes}`,
    `events=${io.writing ? "rw" : "r"}`,
    `cmd=${lookup?.fullName ?? "NULL"}`,
    `user=${session.user?.name ?? "default"}`,
    `redir=-1`,
    `resp=${session.protocol}`,
  ].join(" ");
}
