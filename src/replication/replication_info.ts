/**
 * `INFO replication` and `ROLE` in Redis 7.0's format, field for field, so
 * that redis-sentinel, HAProxy's role check and redis-cli read kvdb as they
 * read Redis. Offsets are LSNs (one record, one step) everywhere: the
 * master's `master_repl_offset`, each replica's `offset`, a replica's
 * `slave_repl_offset` — comparable with each other, as Sentinel compares
 * them to pick the replica to promote.
 *
 * @example
 * ```ts
 * const fields = replicationInfo(view);
 * fields[0]; // ["role", "master"]
 * ```
 * @module
 */

import type { InfoFields } from "../executor/command_spec.ts";
import type { ReplyWriter } from "../protocol/reply_writer.ts";
import type { ReplicaInfo } from "./master.ts";
import type { SlaveStatus } from "./slave.ts";

/** Redis's replication id when there is none. */
const NO_REPLID = "0".repeat(40);

/** What the fields are read from. */
export interface ReplicationView {
  role: "master" | "slave";
  /** A replica's master. */
  masterHost: string;
  masterPort: number;
  slave: SlaveStatus | undefined;
  /** A master's replicas. */
  replicas: readonly ReplicaInfo[];
  replid: string;
  replid2: string;
  secondLsn: number;
  /** This server's durable end of log. */
  durableLsn: number;
  priority: number;
  backlogFirstLsn: number | undefined;
  backlogBytes: number;
  nowMs: number;
}

const SLAVE_ROLE_STATES: Record<SlaveStatus["state"], string> = {
  connecting: "connecting",
  syncing: "sync",
  streaming: "connected",
  down: "connect",
  stopped: "connect",
};

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function hostPort(address: string): [string, string] {
  const colon = address.lastIndexOf(":");
  return [address.slice(0, colon), address.slice(colon + 1)];
}

/**
 * The fields of `INFO replication`.
 *
 * @example
 * ```ts
 * replicationInfo(view).find(([k]) => k === "master_repl_offset");
 * ```
 */
export function replicationInfo(v: ReplicationView): InfoFields {
  const fields: InfoFields = [["role", v.role]];
  let offset = v.durableLsn;
  if (v.role === "slave") {
    const s = v.slave;
    const up = s?.state === "streaming";
    const syncing = s?.state === "syncing";
    offset = s?.durableLsn ?? v.durableLsn;
    fields.push(
      ["master_host", v.masterHost],
      ["master_port", v.masterPort],
      ["master_link_status", up ? "up" : "down"],
      ["master_last_io_seconds_ago", s?.lastHeardMs ? seconds(v.nowMs - s.lastHeardMs) : -1],
      ["master_sync_in_progress", syncing ? 1 : 0],
      ["slave_read_repl_offset", s?.appliedLsn ?? offset],
      ["slave_repl_offset", offset],
    );
    if (syncing) {
      fields.push(
        ["master_sync_total_bytes", -1],
        ["master_sync_read_bytes", 0],
        ["master_sync_left_bytes", -1],
        ["master_sync_perc", "0.00"],
        ["master_sync_last_io_seconds_ago", s?.lastHeardMs ? seconds(v.nowMs - s.lastHeardMs) : -1],
      );
    }
    if (!up) {
      fields.push([
        "master_link_down_since_seconds",
        s?.downSinceMs ? seconds(v.nowMs - s.downSinceMs) : -1,
      ]);
    }
    fields.push(
      ["slave_priority", v.priority],
      ["slave_read_only", 1],
      ["replica_announced", 1],
    );
  }
  fields.push(["connected_slaves", v.replicas.length]);
  v.replicas.forEach((r, i) => {
    const [ip, port] = hostPort(r.address);
    const state = r.catchingUp ? "send_bulk" : "online";
    const lag = seconds(v.nowMs - r.lastAckMs);
    fields.push([
      `slave${i}`,
      `ip=${ip},port=${port},state=${state},offset=${r.ackLsn},lag=${lag}`,
    ]);
  });
  const first = v.backlogFirstLsn;
  fields.push(
    ["master_failover_state", "no-failover"],
    ["master_replid", v.replid || NO_REPLID],
    ["master_replid2", v.replid2 || NO_REPLID],
    ["master_repl_offset", offset],
    ["second_repl_offset", v.replid2 ? v.secondLsn + 1 : -1],
    ["repl_backlog_active", first === undefined ? 0 : 1],
    ["repl_backlog_size", v.backlogBytes],
    ["repl_backlog_first_byte_offset", first ?? 0],
    ["repl_backlog_histlen", first === undefined ? 0 : Math.max(0, v.durableLsn - first + 1)],
  );
  return fields;
}

/**
 * ROLE's reply: `master offset [[ip port offset] ...]` or `slave host
 * port state offset`.
 *
 * @example
 * ```ts
 * replyRole(view, w);
 * ```
 */
export function replyRole(v: ReplicationView, w: ReplyWriter): void {
  if (v.role === "slave") {
    const s = v.slave;
    w.array(5);
    w.bulk("slave");
    w.bulk(v.masterHost);
    w.integer(v.masterPort);
    w.bulk(s === undefined ? "connect" : SLAVE_ROLE_STATES[s.state]);
    w.integer(s === undefined || s.lastHeardMs === 0 ? -1 : s.durableLsn);
    return;
  }
  w.array(3);
  w.bulk("master");
  w.integer(v.durableLsn);
  w.array(v.replicas.length);
  for (const r of v.replicas) {
    const [ip, port] = hostPort(r.address);
    w.array(3);
    w.bulk(ip);
    w.bulk(port);
    w.bulk(String(r.ackLsn));
  }
}
