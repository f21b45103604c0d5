/**
 * SORT and SORT_RO against redis-server 7.0 (issue 16): lists, sets and
 * sorted sets; numeric order (C strtod scores, ties by bytes, Redis's
 * score error), ALPHA, DESC, LIMIT arithmetic, BY patterns (`*`,
 * `->field`, no `*` for no sorting: a list's and a sorted set's own order,
 * with DESC and LIMIT), GET (`#`, patterns, hash fields, missing values),
 * STORE (a list; an empty result deletes the destination), WRONGTYPE and
 * syntax errors; hand-written cases and seeded random sequences, replies
 * compared byte for byte in RESP2 and RESP3.
 *
 * What is not deterministic in Redis is kept out of exact comparison: a
 * hash-table set's own order (BY nosort without STORE: compared as a
 * multiset), and ties of ALPHA BY values (qsort keeps a list's order;
 * with LIMIT Redis's pqsort does not; a set's input order is its dict's),
 * which the random sequences do not produce.
 */

import { type EventSteps, keyspaceEventsTest } from "./_keyspace_events.ts";
import {
  differentialTest,
  DiffPair,
  type Rng,
  STANDARD_RULES,
  type StepLike,
  type Template,
  template,
  unordered,
} from "./_differential.ts";

function anyOrder(...args: string[]): StepLike {
  return { args, compare: unordered };
}

const NUMBERS = ["3", "1", "2", "10", "-5", "01", "1.0", "1e1", "0.5"];

const CASES: Record<string, StepLike[]> = {
  "lists: numeric, DESC, ALPHA, LIMIT, ties by bytes": [
    ["RPUSH", "l", ...NUMBERS],
    ["SORT", "l"],
    ["SORT", "l", "DESC"],
    ["SORT", "l", "ALPHA"],
    ["SORT", "l", "ALPHA", "DESC"],
    ["SORT", "l", "ASC", "DESC", "ASC"],
    ["SORT", "l", "LIMIT", "0", "3"],
    ["SORT", "l", "LIMIT", "2", "3", "DESC"],
    ["SORT", "l", "LIMIT", "-5", "3"],
    ["SORT", "l", "LIMIT", "5", "-1"],
    ["SORT", "l", "LIMIT", "8", "5"],
    ["SORT", "l", "LIMIT", "9", "5"],
    ["SORT", "l", "LIMIT", "100", "5"],
    ["SORT", "l", "LIMIT", "0", "0"],
    ["SORT", "l", "LIMIT", "1", "9223372036854775806"],
    ["SORT", "l", "limit", "1", "2", "limit", "3", "2"],
    ["SORT", "nokey"],
    ["SORT", "nokey", "LIMIT", "0", "1", "DESC", "ALPHA"],
    ["SORT_RO", "l", "DESC", "LIMIT", "1", "2"],
  ],
  "scores as strtod reads them, and Redis's score error": [
    ["RPUSH", "s1", " 7", "0x10", "inf", "-inf", "", "+5", ".5", "5.", "1e-3", "\t2"],
    ["SORT", "s1"],
    ["SORT", "s1", "DESC"],
    ["RPUSH", "s2", "1", "abc"],
    ["SORT", "s2"],
    ["SORT", "s2", "ALPHA"],
    ["RPUSH", "s3", "1", "2 "],
    ["SORT", "s3"],
    ["RPUSH", "s4", "1", "nan"],
    ["SORT", "s4"],
    ["RPUSH", "s5", "1", "1e400"],
    ["SORT", "s5"],
    ["RPUSH", "s6", "1", " "],
    ["SORT", "s6"],
    ["SORT", "s2", "BY", "nosort"],
    ["SORT", "s2", "STORE", "dst"],
    ["EXISTS", "dst"],
  ],
  "sets and sorted sets; BY without * keeps a list's and a sorted set's order": [
    ["SADD", "iset", "5", "-2", "40", "3", "100000"],
    ["SORT", "iset"],
    ["SORT", "iset", "DESC", "LIMIT", "1", "2"],
    ["SORT", "iset", "BY", "nosort"],
    ["SORT", "iset", "BY", "nosort", "LIMIT", "1", "3"],
    ["SADD", "hset", "pear", "apple", "fig", "banana"],
    ["SORT", "hset", "ALPHA"],
    ["SORT", "hset", "ALPHA", "DESC", "LIMIT", "1", "2"],
    ["SORT", "hset"],
    anyOrder("SORT", "hset", "BY", "nosort"),
    ["SORT", "hset", "BY", "nosort", "STORE", "hdst"],
    ["LRANGE", "hdst", "0", "-1"],
    ["ZADD", "z", "3", "c", "1", "a", "2", "b", "2", "bb", "-1", "z"],
    ["SORT", "z", "ALPHA"],
    ["SORT", "z", "BY", "nosort"],
    ["SORT", "z", "BY", "nosort", "DESC"],
    ["SORT", "z", "BY", "nosort", "LIMIT", "1", "3"],
    ["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "3"],
    ["SORT", "z", "BY", "nosort", "LIMIT", "10", "3"],
    ["SORT", "z"],
    ["ZADD", "zn", "5", "10", "1", "30", "3", "20"],
    ["SORT", "zn"],
    ["SORT", "zn", "BY", "nosort"],
    ["RPUSH", "ln", "c", "a", "b"],
    ["SORT", "ln", "BY", "nosort"],
    ["SORT", "ln", "BY", "nosort", "DESC", "LIMIT", "0", "2"],
    ["SORT", "ln", "BY", "nosort", "BY", "w_*"],
    ["SORT", "ln", "BY", "w_*", "BY", "nosort", "LIMIT", "1", "1"],
  ],
  "BY and GET patterns: strings, hash fields, missing keys": [
    ["RPUSH", "ids", "1", "2", "3", "4"],
    ["MSET", "w_1", "40", "w_2", "10", "w_3", "30", "name_1", "one", "name_2", "two"],
    ["HSET", "h_1", "age", "9", "nm", "uno"],
    ["HSET", "h_2", "age", "7"],
    ["HSET", "h_3", "age", "x"],
    ["SORT", "ids", "BY", "w_*"],
    ["SORT", "ids", "BY", "w_*", "DESC"],
    ["SORT", "ids", "BY", "w_*", "LIMIT", "1", "2"],
    ["SORT", "ids", "BY", "w_*", "GET", "#", "GET", "name_*", "GET", "h_*->nm"],
    ["SORT", "ids", "GET", "name_*"],
    ["SORT", "ids", "GET", "nostar"],
    ["SORT", "ids", "GET", "h_*->"],
    ["SORT", "ids", "GET", "h_*->age", "GET", "w_*"],
    ["SORT", "ids", "BY", "h_*->age"],
    ["SORT", "ids", "BY", "h_*->age", "LIMIT", "0", "2"],
    ["SET", "h_4", "str"],
    ["SORT", "ids", "BY", "name_*", "ALPHA"],
    ["SORT", "ids", "BY", "name_*", "ALPHA", "DESC"],
    ["SORT", "ids", "BY", "name_*"],
    ["SORT", "ids", "BY", "w_*", "GET", "ids"],
    ["SORT", "ids", "BY", "ids", "GET", "w_*"],
    ["RPUSH", "wl_1", "x"],
    ["SORT", "ids", "BY", "wl_*"],
    ["SORT", "ids", "GET", "wl_*"],
    ["SORT", "ids", "BY", "*"],
    ["SET", "3", "-1"],
    ["SORT", "ids", "BY", "*", "GET", "*"],
    ["SORT", "ids", "BY", "w_*->", "GET", "#"],
  ],
  "STORE: a list, empty results delete, SORT_RO refuses it": [
    ["RPUSH", "src", "3", "1", "2"],
    ["MSET", "n_1", "a", "n_3", "c"],
    ["SORT", "src", "STORE", "dst"],
    ["LRANGE", "dst", "0", "-1"],
    ["TYPE", "dst"],
    ["OBJECT", "ENCODING", "dst"],
    ["SORT", "src", "GET", "n_*", "GET", "#", "STORE", "dst"],
    ["LRANGE", "dst", "0", "-1"],
    ["SET", "other", "x"],
    ["SORT", "src", "DESC", "STORE", "other"],
    ["TYPE", "other"],
    ["LRANGE", "other", "0", "-1"],
    ["SORT", "src", "LIMIT", "5", "5", "STORE", "dst"],
    ["EXISTS", "dst"],
    ["SORT", "nokey", "STORE", "other"],
    ["EXISTS", "other"],
    ["SORT", "src", "STORE", "src"],
    ["LRANGE", "src", "0", "-1"],
    ["SORT_RO", "src", "STORE", "x"],
    ["SORT", "src", "STORE"],
    ["SORT", "src", "STORE", "a", "STORE", "b"],
    ["LRANGE", "b", "0", "-1"],
    ["EXISTS", "a"],
  ],
  "errors: WRONGTYPE, syntax, LIMIT, arity": [
    ["HSET", "hash", "f", "v"],
    ["SET", "str", "v"],
    ["SORT", "hash"],
    ["SORT", "str"],
    ["SORT_RO", "hash"],
    ["SORT", "hash", "BOGUS"],
    ["SORT", "nokey", "BOGUS"],
    ["SORT", "nokey", "LIMIT", "1"],
    ["SORT", "nokey", "LIMIT", "x", "1"],
    ["SORT", "nokey", "LIMIT", "1", "x"],
    ["SORT", "nokey", "LIMIT", "1", "9223372036854775808"],
    ["SORT", "nokey", "BY"],
    ["SORT", "nokey", "GET"],
    ["SORT", "nokey", "LIMIT", "x", "1", "BOGUS"],
    ["SORT", "nokey", "BOGUS", "LIMIT", "x", "1"],
    ["SORT"],
    ["SORT_RO"],
    ["SORT", "str", "STORE", "dst"],
    ["EXISTS", "dst"],
  ],
};

// A random sequence: lists of numbers and words, integer sets, sorted sets,
// weights as strings and hash fields (distinct values: no ALPHA BY ties),
// and SORTs with random options.
const LISTS = ["l1", "l2"];
const SETS = ["s1"];
const ZSETS = ["z1"];
const ELEMENTS = ["1", "2", "3", "5", "8", "13", "-1", "0", "007", "2.5", "10", "1e2"];
const WORDS = ["a", "b", "c", "ab", "B", "zz", "1", "10", "9"];

function sortArgs(r: Rng, key: string, list: boolean): string[] {
  const args = ["SORT", key];
  const alpha = r.chance(0.3) || WORDS.includes(key);
  let by: string | undefined;
  if (r.chance(0.4)) {
    by = r.pick(["w_*", "h_*->f", "nosort", "missing_*"]);
    // ALPHA BY ties (missing weights) keep input order: lists without LIMIT only.
    if (alpha && (!list || by === "missing_*")) by = undefined;
  }
  if (by !== undefined) args.push("BY", by);
  if (alpha) args.push("ALPHA");
  if (r.chance(0.4)) args.push(r.pick(["ASC", "DESC"]));
  const limitOk = !(alpha && by !== undefined && by !== "nosort");
  if (limitOk && r.chance(0.4)) {
    args.push("LIMIT", String(r.int(-2, 6)), String(r.int(-2, 6)));
  }
  const gets = r.int(0, 2);
  for (let i = 0; i < gets; i++) args.push("GET", r.pick(["#", "w_*", "h_*->f", "h_*->g", "x"]));
  if (r.chance(0.2)) args.push("STORE", r.pick(["dst", "l2"]));
  return args;
}

const TEMPLATES: Template<StepLike>[] = [
  template(3, (r) => ["RPUSH", r.pick(LISTS), ...r.some(ELEMENTS, r.int(1, 4))]),
  template(1, (r) => ["RPUSH", "words", ...r.some(WORDS, r.int(1, 3))]),
  template(1, (r) => ["LPOP", r.pick([...LISTS, "words"])]),
  template(2, (r) => ["SADD", r.pick(SETS), ...r.some(["1", "2", "3", "5", "8", "-4", "40"], 2)]),
  template(1, (r) => ["SREM", r.pick(SETS), r.pick(["1", "2", "3"])]),
  template(2, (r) => ["ZADD", r.pick(ZSETS), String(r.int(-3, 3)), r.pick(ELEMENTS)]),
  template(1, (r) => ["ZREM", r.pick(ZSETS), r.pick(ELEMENTS)]),
  // Distinct weights per element (the element's own text reversed, as a number).
  template(2, (r) => {
    const e = r.pick(ELEMENTS);
    return ["SET", `w_${e}`, `${r.int(0, 9)}${ELEMENTS.indexOf(e)}`];
  }),
  template(1, (r) => ["DEL", `w_${r.pick(ELEMENTS)}`]),
  template(2, (r) => {
    const e = r.pick(ELEMENTS);
    return ["HSET", `h_${e}`, "f", `${r.int(0, 9)}${ELEMENTS.indexOf(e)}`];
  }),
  template(6, (r) => sortArgs(r, r.pick(LISTS), true)),
  template(2, (r) => sortArgs(r, "words", true)),
  template(2, (r) => sortArgs(r, r.pick(SETS), false)),
  template(2, (r) => sortArgs(r, r.pick(ZSETS), false)),
  template(1, (r) => ["SORT_RO", r.pick([...LISTS, ...SETS, ...ZSETS]), "LIMIT", "0", "3"]),
  template(1, (r) => ["LRANGE", "dst", "0", String(r.int(-1, 5))]),
  template(1, (r) => ["DEL", r.pick([...LISTS, ...SETS, ...ZSETS, "dst"])]),
];

differentialTest(
  "differential: SORT and SORT_RO, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
    await pair.diffSeeds(t, [1, 2, 3, 4], {
      length: 1200,
      templates: TEMPLATES,
      rules: STANDARD_RULES,
    });
  },
);

/**
 * Keyspace notifications of SORT (`KEAnm` on both servers): `new` and
 * `sortstore` for a stored list, `del` for an emptied destination, and a
 * `keymiss` for every BY/GET key looked up and missing, in Redis's order.
 */
function sortEvents(e: EventSteps): StepLike[] {
  return [
    ...e.listeners(),
    ...e.ev(2, "RPUSH", "l", "3", "1", "2"),
    ...e.ev(2, "SORT", "l", "STORE", "d"),
    ...e.ev(1, "SORT", "l", "STORE", "d"),
    ...e.ev(3, "SORT", "l", "BY", "w_*"),
    ...e.ev(3, "SORT", "l", "GET", "n_*"),
    ...e.ev(1, "SET", "w_1", "5"),
    ...e.ev(2, "SORT", "l", "BY", "w_*", "GET", "#"),
    ...e.ev(1, "SORT", "nokey"),
    ...e.ev(2, "SORT", "nokey", "STORE", "d"),
    ...e.ev(0, "SORT", "l", "LIMIT", "5", "5", "STORE", "l2"),
    ...e.ev(1, "SORT", "nokey2", "STORE", "nokey3"),
    ...e.ev(0, "SORT", "l", "BY", "nosort", "GET", "#"),
  ];
}

keyspaceEventsTest(
  "differential: SORT keyspace notifications, kvdb vs redis-server 7.0, RESP2 and RESP3",
  "sort events",
  sortEvents,
);
