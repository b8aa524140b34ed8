/* quickjs-frames.c: QuickJS as the kernel images compile it: the engine's own quickjs.c (from the npm
 * package qjsc@0.3.0 at build time; never committed), then what the stack sampler needs from its
 * private structures, read-only. The layout of the frame list lets the timer interrupt walk it without
 * calling the engine (kernel/sampler.c); the name and first line of a function's bytecode are read in
 * thread context when samples are resolved (kernel/js-profiler.c). Nothing here changes the engine. */
#include "quickjs.c"

#include "sampler.h"

void js_frame_layout(struct js_frame_layout *out) {
  out->runtime_frame = offsetof(JSRuntime, current_stack_frame);
  out->frame_previous = offsetof(JSStackFrame, prev_frame);
  out->frame_function = offsetof(JSStackFrame, cur_func);
  out->value_tag = offsetof(JSValue, tag);
  out->object_class = offsetof(JSObject, class_id);
  out->object_bytecode = offsetof(JSObject, u.func.function_bytecode);
  out->object_c_function = offsetof(JSObject, u.cfunc.c_function);
  out->tag_object = JS_TAG_OBJECT;
  out->class_c_function = JS_CLASS_C_FUNCTION;
  out->class_bytecode[0] = JS_CLASS_BYTECODE_FUNCTION;
  out->class_bytecode[1] = JS_CLASS_GENERATOR_FUNCTION;
  out->class_bytecode[2] = JS_CLASS_ASYNC_FUNCTION;
  out->class_bytecode[3] = JS_CLASS_ASYNC_GENERATOR_FUNCTION;
}

/* A function object's own "name" (QuickJS names methods and arrow functions at run time, not in their
 * bytecode), when the object is still a live function running that bytecode. */
static const char *object_name(uint64_t object, const JSFunctionBytecode *b, char *buffer, int size) {
  const JSObject *p = (const JSObject *)(uintptr_t)object;
  if (!object || (object & 7) || !sampler_readable(object, sizeof *p)) return 0;
  if (p->header.gc_obj_type != JS_GC_OBJ_TYPE_JS_OBJECT || p->header.ref_count <= 0 || !js_class_has_bytecode(p->class_id) ||
      p->u.func.function_bytecode != b)
    return 0;
  const JSShape *sh = p->shape;
  if (!sampler_readable((uint64_t)(uintptr_t)sh, sizeof *sh) || sh->prop_count < 0 || sh->prop_count > 4096 ||
      !sampler_readable((uint64_t)(uintptr_t)sh->prop, (uint64_t)sh->prop_count * sizeof *sh->prop) ||
      !sampler_readable((uint64_t)(uintptr_t)p->prop, (uint64_t)sh->prop_count * sizeof *p->prop))
    return 0;
  for (int i = 0; i < sh->prop_count; i++) {
    if (sh->prop[i].atom != JS_ATOM_name || (sh->prop[i].flags & JS_PROP_TMASK) != JS_PROP_NORMAL) continue;
    JSValue v = p->prop[i].u.value;
    if (JS_VALUE_GET_TAG(v) != JS_TAG_STRING) return 0;
    const JSString *str = JS_VALUE_GET_STRING(v);
    if (!sampler_readable((uint64_t)(uintptr_t)str, sizeof *str + (uint64_t)str->len * 2)) return 0;
    int n = 0;
    for (uint32_t k = 0; k < str->len && n + 1 < size; k++) {
      uint32_t c = str->is_wide_char ? str->u.str16[k] : str->u.str8[k];
      buffer[n++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    buffer[n] = 0;
    return buffer;
  }
  return 0;
}

/* A sample may name bytecode that has been freed since (a function made by eval): check that the memory
 * still holds a function's bytecode and a valid name atom before reading them. The name is the
 * bytecode's, else that of `object`, a function object seen running it (0 when none was). */
const char *js_bytecode_describe(void *runtime, uint64_t bytecode, uint64_t object, char *buffer, int size, int *line) {
  JSRuntime *rt = runtime;
  const JSFunctionBytecode *b = (const JSFunctionBytecode *)(uintptr_t)bytecode;
  if (!rt || !sampler_readable(bytecode, sizeof *b) || b->header.gc_obj_type != JS_GC_OBJ_TYPE_FUNCTION_BYTECODE) return 0;
  *line = b->has_debug ? b->debug.line_num : 0;
  JSAtom atom = b->func_name;
  if (atom == JS_ATOM_NULL || __JS_AtomIsTaggedInt(atom)) {
    const char *name = object_name(object, b, buffer, size);
    return name ? name : "";
  }
  if (atom >= (JSAtom)rt->atom_size || !sampler_readable((uint64_t)(uintptr_t)&rt->atom_array[atom], sizeof(void *))) return 0;
  const JSString *p = rt->atom_array[atom];
  if (!p || atom_is_free(p) || !sampler_readable((uint64_t)(uintptr_t)p, sizeof *p + (uint64_t)p->len * 2 + 1)) return 0;
  return JS_AtomGetStrRT(rt, buffer, size, atom);
}
