/**
 * Hot-path functions compiled from the sensor table (sensor-fields.ts) once, when a module loads.
 *
 * Why generated code: the per-reading paths (the validator, `readSensors`, a window pane's add, the
 * readings CSV row) read each sensor by its literal property name, `r.temperature`, which V8 turns into
 * a monomorphic named load with an inline cache; a loop over the table's keys, `r[key]`, is a keyed
 * load that goes megamorphic across 14 names and costs several times as much on every reading. Writing
 * the 14 names out by hand made every new sensor a change in a dozen places. So the code with literal
 * names is written from the table as text and compiled with `new Function` once per module (as ajv and
 * fast-json-stringify do): V8 optimises it like hand-written code, and the table stays the one place
 * that lists the sensors. The names come from the table (source code), never from data, and every
 * property name is written as a JSON string literal.
 */
/** `obj.name` when `name` is an identifier, else `obj["name"]` (both are named loads for V8). */
export function prop(obj: string, name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `${obj}.${name}` : `${obj}[${JSON.stringify(name)}]`;
}

/**
 * Compile `body`, the body of a function of `params`, once: a factory that returns the hot-path
 * function, closing over what the factory is given (call it once at module load, or once per
 * validator with that validator's checks). `name` says where the code comes from in a stack trace
 * or a profile.
 */
export function compile<Factory>(name: string, params: readonly string[], body: string): Factory {
  return new Function(...params, `'use strict';\n${body}\n//# sourceURL=smoke-stream/generated/${name}.js`) as Factory;
}
