/**
 * Finds a `$ref` cycle that never descends into a label: `{"if":{"required":["app.name"]},"then":
 * {"$ref":"#"}}` applies the whole schema to the same object again, so evaluating it recurses until
 * the stack overflows, but only for objects that reach the cycle, which the trial labels at load
 * may not. JSON Schema leaves such infinite in-place recursion undefined; it is refused at start.
 * A cycle through `properties`, `items` and the like moves to a label value each time, and ends.
 */

/** Keywords that apply a schema to the same object, not to a part of it. */
const IN_PLACE_ONE = ['not', 'if', 'then', 'else'];
const IN_PLACE_LIST = ['allOf', 'anyOf', 'oneOf'];
const IN_PLACE_MAP = ['dependentSchemas', 'dependencies'];

type Edge = [schema: object, pointer: string];

/** The JSON pointer of the `$ref` that closes such a cycle, if there is one. Local refs only. */
export function inPlaceRefCycle(root: object): string | undefined {
  const state = new Map<object, 'open' | 'done'>();
  // Iterative depth-first walk: a deeply nested schema must not overflow the stack here.
  const stack: Array<{ schema: object; edges: Edge[]; next: number }> = [];
  const enter = (schema: object, pointer: string) => {
    state.set(schema, 'open');
    stack.push({ schema, edges: inPlaceEdges(root, schema, pointer), next: 0 });
  };
  enter(root, '#');
  while (stack.length > 0) {
    const top = stack.at(-1)!;
    const edge = top.edges[top.next++];
    if (!edge) {
      state.set(top.schema, 'done');
      stack.pop();
      continue;
    }
    const [schema, pointer] = edge;
    const seen = state.get(schema);
    if (seen === 'open') return pointer;
    if (seen === undefined) enter(schema, pointer);
  }
  return undefined;
}

function inPlaceEdges(root: object, schema: object, pointer: string): Edge[] {
  const edges: Edge[] = [];
  const add = (child: unknown, at: string) => {
    if (isSchemaObject(child)) edges.push([child, at]);
  };
  const record = schema as Record<string, unknown>;
  for (const key of IN_PLACE_ONE) add(record[key], `${pointer}/${key}`);
  for (const key of IN_PLACE_LIST) {
    const list = record[key];
    if (Array.isArray(list)) list.forEach((child, i) => add(child, `${pointer}/${key}/${i}`));
  }
  for (const key of IN_PLACE_MAP) {
    const map = record[key];
    if (isSchemaObject(map))
      for (const [name, child] of Object.entries(map)) add(child, `${pointer}/${key}/${escapeToken(name)}`);
  }
  if (typeof record.$ref === 'string') add(resolveLocalRef(root, record.$ref), `${pointer}/$ref`);
  return edges;
}

/** `#` or `#/a/b~1c` within this document; anything else (an $id, an anchor, a URL) is not followed. */
function resolveLocalRef(root: object, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const token of ref.slice(2).split('/')) {
    if (!isSchemaObject(node) && !Array.isArray(node)) return undefined;
    let name: string;
    try {
      name = decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    node = Object.hasOwn(node, name) ? (node as Record<string, unknown>)[name] : undefined;
  }
  return node;
}

function escapeToken(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isSchemaObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
