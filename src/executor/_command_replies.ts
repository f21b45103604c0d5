/**
 * How COMMAND INFO, COMMAND DOCS and a container's HELP render a command
 * table row: Redis's layout field for field, from the row's facts, with
 * kvdb's own summary where Redis's reply carries its prose. Redis's
 * complexity, history, key-spec notes and deprecation texts are not
 * replied (see the README's COMMAND section).
 *
 * RESP3 replies some of these parts as maps and sets: they are written
 * through {@link replyMap} and {@link replySet}, arrays in RESP2.
 *
 * @example
 * ```ts
 * replyCommandInfo(COMMANDS.get("GET")!, w);
 * ```
 * @module
 */

import type { ReplyWriter } from "../protocol/reply_writer.ts";
import type { ArgumentFacts, BeginSearch, FindKeys, KeySpecFacts } from "./command_facts_types.ts";
import type { CommandSpec } from "./command_spec.ts";

/** A map of `pairs` entries: the header (RESP2: an array of keys and values). */
function replyMap(w: ReplyWriter, pairs: number): void {
  w.array(pairs * 2);
}

/** A set of `count` members: the header (RESP2: an array). */
function replySet(w: ReplyWriter, count: number): void {
  w.array(count);
}

function replyStatuses(w: ReplyWriter, values: readonly string[]): void {
  replySet(w, values.length);
  for (const value of values) w.status(value);
}

function replyBeginSearch(w: ReplyWriter, begin: BeginSearch): void {
  replyMap(w, 2);
  w.bulk("type");
  w.bulk(begin.type);
  w.bulk("spec");
  if (begin.type === "index") {
    replyMap(w, 1);
    w.bulk("index");
    w.integer(begin.spec.index);
  } else if (begin.type === "keyword") {
    replyMap(w, 2);
    w.bulk("keyword");
    w.bulk(begin.spec.keyword);
    w.bulk("startfrom");
    w.integer(begin.spec.startfrom);
  } else {
    replyMap(w, 0);
  }
}

function replyFindKeys(w: ReplyWriter, find: FindKeys): void {
  replyMap(w, 2);
  w.bulk("type");
  w.bulk(find.type);
  w.bulk("spec");
  if (find.type === "range") {
    replyMap(w, 3);
    w.bulk("lastkey");
    w.integer(find.spec.lastkey);
    w.bulk("keystep");
    w.integer(find.spec.keystep);
    w.bulk("limit");
    w.integer(find.spec.limit);
  } else if (find.type === "keynum") {
    replyMap(w, 3);
    w.bulk("keynumidx");
    w.integer(find.spec.keynumidx);
    w.bulk("firstkey");
    w.integer(find.spec.firstkey);
    w.bulk("keystep");
    w.integer(find.spec.keystep);
  } else {
    replyMap(w, 0);
  }
}

/** One key spec; Redis's `notes` sentence is left out. */
function replyKeySpec(w: ReplyWriter, spec: KeySpecFacts): void {
  replyMap(w, 3);
  w.bulk("flags");
  replyStatuses(w, spec.flags);
  w.bulk("begin_search");
  replyBeginSearch(w, spec.beginSearch);
  w.bulk("find_keys");
  replyFindKeys(w, spec.findKeys);
}

/**
 * COMMAND INFO's entry for one command: name, arity, flags, key positions,
 * ACL categories, tips, key specs and (for a container) the subcommands
 * kvdb serves.
 *
 * @example
 * ```ts
 * replyCommandInfo(COMMANDS.get("SET")!, w); // *10 $3 set :-3 ...
 * ```
 */
export function replyCommandInfo(spec: CommandSpec, w: ReplyWriter): void {
  const facts = spec.facts;
  w.array(10);
  w.bulk(facts.name);
  w.integer(facts.arity);
  replyStatuses(w, facts.flags);
  w.integer(facts.firstKey);
  w.integer(facts.lastKey);
  w.integer(facts.keyStep);
  replyStatuses(w, facts.aclCategories);
  replySet(w, facts.tips.length);
  for (const tip of facts.tips) w.bulk(tip);
  replySet(w, facts.keySpecs.length);
  for (const keySpec of facts.keySpecs) replyKeySpec(w, keySpec);
  if (spec.subcommands === undefined) {
    replySet(w, 0);
  } else {
    w.array(spec.subcommands.size);
    for (const sub of spec.subcommands.values()) replyCommandInfo(sub, w);
  }
}

function replyArguments(w: ReplyWriter, args: readonly ArgumentFacts[]): void {
  w.array(args.length);
  for (const arg of args) {
    const fields = 2 + (arg.keySpecIndex !== undefined ? 1 : 0) +
      (arg.token !== undefined ? 1 : 0) +
      (arg.since !== undefined ? 1 : 0) + (arg.flags !== undefined ? 1 : 0) +
      (arg.arguments !== undefined ? 1 : 0);
    replyMap(w, fields);
    w.bulk("name");
    w.bulk(arg.name);
    w.bulk("type");
    w.bulk(arg.type);
    if (arg.keySpecIndex !== undefined) {
      w.bulk("key_spec_index");
      w.integer(arg.keySpecIndex);
    }
    if (arg.token !== undefined) {
      w.bulk("token");
      w.bulk(arg.token);
    }
    if (arg.since !== undefined) {
      w.bulk("since");
      w.bulk(arg.since);
    }
    if (arg.flags !== undefined) {
      w.bulk("flags");
      replyStatuses(w, arg.flags);
    }
    if (arg.arguments !== undefined) {
      w.bulk("arguments");
      replyArguments(w, arg.arguments);
    }
  }
}

/**
 * COMMAND DOCS's entry for one command (the value under its name): kvdb's
 * summary, then Redis's since, group, doc flags, arguments and the
 * subcommands kvdb serves.
 *
 * @example
 * ```ts
 * replyCommandDocs(COMMANDS.get("GET")!, w); // summary, since, group, arguments
 * ```
 */
export function replyCommandDocs(spec: CommandSpec, w: ReplyWriter): void {
  const facts = spec.facts;
  const fields = 3 + (facts.docFlags.length > 0 ? 1 : 0) + (facts.arguments ? 1 : 0) +
    (spec.subcommands ? 1 : 0);
  replyMap(w, fields);
  w.bulk("summary");
  w.bulk(spec.summary);
  w.bulk("since");
  w.bulk(facts.since);
  w.bulk("group");
  w.bulk(facts.group);
  if (facts.docFlags.length > 0) {
    w.bulk("doc_flags");
    replyStatuses(w, facts.docFlags);
  }
  if (facts.arguments) {
    w.bulk("arguments");
    replyArguments(w, facts.arguments);
  }
  if (spec.subcommands) {
    w.bulk("subcommands");
    replyMap(w, spec.subcommands.size);
    for (const sub of spec.subcommands.values()) {
      w.bulk(sub.fullName);
      replyCommandDocs(sub, w);
    }
  }
}

function argumentUsage(arg: ArgumentFacts): string {
  const parts = arg.arguments?.map(argumentUsage) ?? [];
  let s = arg.type === "pure-token"
    ? arg.token ?? arg.name
    : arg.type === "oneof"
    ? parts.join("|")
    : arg.type === "block"
    ? parts.join(" ")
    : `<${arg.name}>`;
  if (arg.token !== undefined && arg.type !== "pure-token") s = `${arg.token} ${s}`;
  if (arg.flags?.includes("multiple")) s = `${s} [${s} ...]`;
  if (arg.flags?.includes("optional")) s = `[${s}]`;
  return s;
}

/**
 * A one-line synopsis of a command's arguments from their facts.
 *
 * @example
 * ```ts
 * usage(factsOf("config|get").arguments); // "<parameter> [<parameter> ...]"
 * ```
 */
export function usage(args: readonly ArgumentFacts[] | undefined): string {
  return (args ?? []).map(argumentUsage).join(" ");
}

/**
 * A container's HELP: a status line per line, each subcommand kvdb serves
 * with its synopsis and kvdb's summary of it.
 *
 * @example
 * ```ts
 * replyHelp(COMMANDS.get("COMMAND")!, w);
 * ```
 */
export function replyHelp(container: CommandSpec, w: ReplyWriter): void {
  const lines = [`${container.name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`];
  if (container.run !== undefined) lines.push("(no subcommand)", `    ${container.summary}`);
  for (const sub of container.subcommands?.values() ?? []) {
    const word = sub.name.slice(container.name.length + 1);
    const synopsis = usage(sub.facts.arguments);
    lines.push(synopsis ? `${word} ${synopsis}` : word, `    ${sub.summary}`);
  }
  w.array(lines.length);
  for (const line of lines) w.status(line);
}
