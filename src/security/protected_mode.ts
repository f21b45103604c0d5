/**
 * Protected mode (Redis's `protected-mode`): while the default user needs
 * no password, a client connecting from anywhere but the loopback
 * interface gets Redis's -DENIED explanation and is closed, so a server
 * exposed by mistake serves nobody outside the host.
 *
 * @example
 * ```ts
 * protectedModeDenies(true, acl, { transport: "tcp", hostname: "10.0.0.5", port: 5000 }); // true if no password
 * ```
 * @module
 */

import type { Acl } from "./acl.ts";

/** Redis 7.0's reply, word for word. */
export const DENIED_REPLY = "-DENIED Redis is running in protected mode because protected mode " +
  "is enabled and no password is set for the default user. In this mode connections are only " +
  "accepted from the loopback interface. If you want to connect from external computers to " +
  "Redis you may adopt one of the following solutions: 1) Just disable protected mode sending " +
  "the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to " +
  "Redis from the same host the server is running, however MAKE SURE Redis is not publicly " +
  "accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
  "2) Alternatively you can just disable the protected mode by editing the Redis configuration " +
  "file, and setting the protected mode option to 'no', and then restarting the server. " +
  "3) If you started the server manually just for testing, restart it with the " +
  "'--protected-mode no' option. 4) Set up an authentication password for the default user. " +
  "NOTE: You only need to do one of the above things in order for the server to start " +
  "accepting connections from the outside.\r\n";

/**
 * Whether `hostname` is a loopback address: 127.0.0.0/8, ::1, or an
 * IPv4-mapped 127.x.
 *
 * @example
 * ```ts
 * isLoopbackHost("127.0.0.2"); // true
 * isLoopbackHost("::ffff:10.1.2.3"); // false
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (host.startsWith("127.")) return true;
  if (host.startsWith("::ffff:")) return host.slice(7).startsWith("127.");
  return host === "::1" || host === "0:0:0:0:0:0:0:1";
}

/**
 * Whether a new connection from `peer` is refused: protected mode on, the
 * default user without a password, a peer off the loopback interface.
 * Unix sockets are local.
 *
 * @example
 * ```ts
 * protectedModeDenies(true, acl, conn.remoteAddr); // true: answer DENIED_REPLY and close
 * ```
 */
export function protectedModeDenies(enabled: boolean, acl: Acl, peer: Deno.Addr): boolean {
  if (!enabled || !acl.defaultUser.nopass) return false;
  if (peer.transport !== "tcp" && peer.transport !== "udp") return false;
  return !isLoopbackHost(peer.hostname);
}
