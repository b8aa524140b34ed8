#!/usr/bin/env node
// `node scripts/profile-report.mjs <file.cpuprofile> [segments]`: where the time of a uOS CPU profile
// (`uos boot --profile`, `UOS_BENCH_PROFILE`) goes, as text: the time sampled and the idle share; native
// self time by kind of work (the engine's helpers grouped: property access, reference counting,
// allocation, garbage collection, typed arrays, calls, the interpreter itself); the functions with the most
// self and total (inclusive) time, and by the innermost JS function and its source file (the engine's work
// for a JS function counted as its own). With `segments` (the TCP segments the window moved), every share is
// also given in microseconds per segment. See docs/architecture/profiling.md.
import { readFileSync } from 'node:fs';

const [file, segmentsArgument] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node scripts/profile-report.mjs <file.cpuprofile> [segments]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const segments = segmentsArgument ? Number(segmentsArgument) : 0;

// Native functions by kind of work, first match wins (names as the image's symbol table has them).
const KINDS = [
  ['idle (halted in the loop)', /^\(idle\)$/],
  ['reference counting', /^(JS_DupValue|JS_FreeValue|__JS_FreeValue|js_free_value|free_value)/],
  [
    'property access and shapes',
    /^(JS_GetProperty|JS_SetProperty|JS_DefineProperty|JS_CreateProperty|find_own_property|add_property|add_shape_property|js_shape|js_clone_shape|js_new_shape|resize_properties|JS_AtomIsNumericIndex|JS_GetOwnProperty|set_array_length|js_update_property|convert_fast_array|delete_property|JS_HasProperty|get_own_property|js_get_length|JS_GetOpaque|get_var_ref|__JS_AtomToValue)/,
  ],
  [
    'object creation',
    /^(JS_NewObject|js_create_from_ctor|JS_CallConstructor|js_create_array|JS_NewArray|js_array_constructor|js_object_constructor)/,
  ],
  ['allocation', /^(heap_|slab_|is_large|js_malloc|js_free|js_realloc|js_mallocz|js_def_|engine_|large_|page_alloc|page_free)/],
  [
    'garbage collection',
    /^(gc_|JS_RunGC|free_gc_object|free_object|free_function_bytecode|mark_children|free_var_ref|js_free_shape|reset_weak_ref|free_zero_refcount)/,
  ],
  ['iteration (for…of, spread)', /^(js_array_iterator|js_create_array_iterator|JS_IteratorNext|JS_GetIterator|js_for_of|js_iterator)/],
  ['Map and Set', /^(js_map_|map_find_record|map_add_record|map_delete_record|hash_string|map_hash)/],
  [
    'typed arrays and buffers',
    /^(js_typed_array|js_array_buffer|js_dataview|array_buffer|typed_array|get_typed_array|js_TA_|js_sub_array)/,
  ],
  [
    'calls',
    /^(JS_CallInternal|js_call_c_function|js_call_bound_function|JS_Call|js_closure|async_func|js_build_arguments|js_function_apply|js_async|js_generator)/,
  ],
  [
    'numbers, strings, Math',
    /^(js_unary_arith|js_binary_arith|js_binary_logic|js_strict_eq|JS_ToNumber|JS_ToNumeric|JS_ToInt|JS_ToFloat|JS_ToString|js_string|JS_ConcatStrings|js_number|js_math|js_dtoa|printf_core|fmt_|pow$|floor$|JS_NewAtom|__JS_NewAtom|__JS_FreeAtom|js_new_string|js_strcmp|set_value|memcmp)/,
  ],
  ['the Internet checksum (native)', /^js_checksum_sum$/],
  ["the virtio-net driver's natives", /^js_(mmio|dma|pci)_/],
  ['interrupt polling in the interpreter', /^(js_poll_interrupts|__js_poll_interrupts)/],
];

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const samples = profile.samples.length;
const durationUs = profile.endTime - profile.startTime;
const usPerSample = samples ? durationUs / samples : 0;

const label = (n) => {
  const f = n.callFrame;
  return f.url ? `${f.functionName} (${f.url}:${f.lineNumber + 1})` : f.functionName;
};
const isJs = (n) => n.callFrame.url !== '';

const self = new Map();
const total = new Map();
const kinds = new Map();
const innermostJs = new Map();
const files = new Map();
const count = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
let jsSelf = 0;
for (const id of profile.samples) {
  const leaf = byId.get(id);
  count(self, label(leaf));
  const seen = new Set();
  let js;
  for (let at = id; at !== undefined && at !== 1; at = parent.get(at)) {
    const node = byId.get(at);
    const l = label(node);
    if (!seen.has(l)) count(total, l);
    seen.add(l);
    js ??= isJs(node) ? node : undefined;
  }
  count(innermostJs, js ? label(js) : `(no JS) ${leaf.callFrame.functionName}`);
  count(files, js ? js.callFrame.url : `(no JS) ${leaf.callFrame.functionName}`);
  if (isJs(leaf)) {
    jsSelf++;
    continue;
  }
  const kind = KINDS.find(([, re]) => re.test(leaf.callFrame.functionName))?.[0] ?? 'other native code';
  kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
}
kinds.set('JS functions interpreting their own bytecode', jsSelf);

const pct = (n) => `${((n / samples) * 100).toFixed(1).padStart(5)}%`;
const perSegment = (n) => (segments ? `  ${((n * usPerSample) / segments).toFixed(0).padStart(5)} µs/segment` : '');
const out = (line) => process.stdout.write(`${line}\n`);

out(`${file}: ${samples} samples over ${(durationUs / 1e6).toFixed(2)} s (${usPerSample.toFixed(0)} µs each)`);
if (segments) out(`${segments} segments: ${(durationUs / segments).toFixed(0)} µs of guest time each`);
out('\nSelf time by kind of work:');
for (const [kind, n] of [...kinds].sort((a, b) => b[1] - a[1])) out(`${pct(n)}${perSegment(n)}  ${kind}`);
out("\nBy the innermost JS function (the engine's work for it included):");
for (const [l, n] of [...innermostJs].sort((a, b) => b[1] - a[1]).slice(0, 30)) out(`${pct(n)}${perSegment(n)}  ${l}`);
out('\nBy the source file of the innermost JS function:');
for (const [l, n] of [...files].sort((a, b) => b[1] - a[1]).slice(0, 20)) out(`${pct(n)}${perSegment(n)}  ${l}`);
out('\nFunctions by self time:');
for (const [l, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) out(`${pct(n)}${perSegment(n)}  ${l}`);
out('\nFunctions by total (inclusive) time:');
for (const [l, n] of [...total].sort((a, b) => b[1] - a[1]).slice(0, 40)) out(`${pct(n)}${perSegment(n)}  ${l}`);
