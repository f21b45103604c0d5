/**
 * One client's round trip, timed per request with a microsecond clock:
 * redis-benchmark's latency histogram steps by 8 µs around 50 µs here,
 * too coarse to tell a 10% difference at one client. Same load as its
 * `-c 1` rows: SET or GET of random keys over 100k, one request at a time.
 *
 * @module
 */

import { type BenchServer, median } from "./_servers.ts";

const REQUESTS = 20_000;
/** Requests before timing starts (connection and JIT warm-up). */
const WARMUP = 2_000;

/** Median round-trip times in µs per server and command. */
export interface RoundTrips {
  kvdb: { set: number; get: number };
  redis: { set: number; get: number };
}

function requests(command: "SET" | "GET", count: number): Uint8Array[] {
  const encoder = new TextEncoder();
  return Array.from({ length: count }, () => {
    const key = `key:${String(Math.floor(Math.random() * 100_000)).padStart(12, "0")}`;
    return encoder.encode(
      command === "SET"
        ? `*3\r\n$3\r\nSET\r\n$16\r\n${key}\r\n$3\r\nxxx\r\n`
        : `*2\r\n$3\r\nGET\r\n$16\r\n${key}\r\n`,
    );
  });
}

async function medianRoundTripUs(port: number, command: "SET" | "GET"): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const reply = new Uint8Array(64 * 1024);
  const times: number[] = [];
  try {
    for (const request of requests(command, REQUESTS)) {
      const startedMs = performance.now();
      let written = 0;
      while (written < request.length) written += await conn.write(request.subarray(written));
      // Replies here are one line (+OK, $-1) or a header line and a value
      // line ($3 / xxx): read until the last byte read is a line end and,
      // for a bulk header, its value line has come too.
      let got = 0;
      for (;;) {
        const n = await conn.read(reply.subarray(got));
        if (n === null) throw new Error("server closed the connection");
        got += n;
        if (reply[got - 1] !== 0x0a) continue;
        if (reply[0] !== 0x24 || reply[1] === 0x2d) break; // not a bulk, or $-1
        if (reply.subarray(0, got).filter((b) => b === 0x0a).length >= 2) break;
      }
      times.push(performance.now() - startedMs);
    }
  } finally {
    conn.close();
  }
  return median(times.slice(WARMUP)) * 1000;
}

/**
 * Runs SET then GET round trips against each server, alternating who goes
 * first, `rounds` times; medians of the per-round medians.
 */
export async function roundTrips(servers: BenchServer[], rounds: number): Promise<RoundTrips> {
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) {
      for (const command of ["SET", "GET"] as const) {
        (samples[`${server.name}${command}`] ??= []).push(
          await medianRoundTripUs(server.port, command),
        );
      }
    }
  }
  const m = (key: string) => median(samples[key]);
  return {
    kvdb: { set: m("kvdbSET"), get: m("kvdbGET") },
    redis: { set: m("redisSET"), get: m("redisGET") },
  };
}
