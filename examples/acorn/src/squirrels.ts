/// <reference types="@uos/http/globals" />
/**
 * `/api/squirrels`: create, list, read, replace, update and delete squirrels, kept in memory (at most
 * MAX_SQUIRRELS). Bodies are JSON checked with valibot; what fails is a JSON 400 naming each field.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import * as v from 'valibot';

export const MAX_SQUIRRELS = 1000;
const MAX_BODY_BYTES = 16 * 1024;

const Species = v.picklist(['red', 'grey', 'fox', 'flying', 'ground']);
const Fields = {
  name: v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(40, 'must be at most 40 characters')),
  species: Species,
  nuts: v.pipe(
    v.number(),
    v.integer('must be a whole number'),
    v.minValue(0, 'must be 0 or more'),
    v.maxValue(1_000_000, 'must be at most 1000000'),
  ),
  notes: v.optional(v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters')), ''),
};
const NewSquirrel = v.strictObject(Fields);
const SquirrelPatch = v.strictObject({
  name: v.optional(Fields.name),
  species: v.optional(Species),
  nuts: v.optional(Fields.nuts),
  notes: v.optional(v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters'))),
});

export type SquirrelInput = v.InferOutput<typeof NewSquirrel>;
export interface Squirrel extends SquirrelInput {
  id: number;
  createdAt: string;
  updatedAt: string;
}

/** The squirrels, in memory. */
export class Drey {
  private readonly byId = new Map<number, Squirrel>();
  private nextId = 1;

  get size(): number {
    return this.byId.size;
  }
  list(): Squirrel[] {
    return [...this.byId.values()];
  }
  get(id: number): Squirrel | undefined {
    return this.byId.get(id);
  }
  add(input: SquirrelInput): Squirrel | undefined {
    if (this.byId.size >= MAX_SQUIRRELS) return undefined;
    const now = new Date().toISOString();
    const squirrel = { id: this.nextId++, ...input, createdAt: now, updatedAt: now };
    this.byId.set(squirrel.id, squirrel);
    return squirrel;
  }
  update(id: number, changes: Partial<SquirrelInput>): Squirrel | undefined {
    const squirrel = this.byId.get(id);
    if (!squirrel) return undefined;
    for (const [key, value] of Object.entries(changes))
      if (value !== undefined) (squirrel as unknown as Record<string, unknown>)[key] = value;
    squirrel.updatedAt = new Date().toISOString();
    return squirrel;
  }
  delete(id: number): boolean {
    return this.byId.delete(id);
  }
}

type Problem = { status: 400 | 404 | 413 | 415 | 507; body: Record<string, unknown> };

function problem(status: Problem['status'], error: string, message: string, extra: Record<string, unknown> = {}): Problem {
  return { status, body: { error, message, ...extra } };
}

/** The request's JSON body, or the problem with it. */
async function readJson(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; problem: Problem }> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    return { ok: false, problem: problem(415, 'unsupported-media-type', 'send the squirrel as JSON (Content-Type: application/json)') };
  }
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) return { ok: false, problem: problem(413, 'too-large', `bodies are at most ${MAX_BODY_BYTES} bytes`) };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, problem: problem(400, 'invalid-json', `the body is not JSON: ${(error as Error).message}`) };
  }
}

function validationProblem(issues: readonly v.BaseIssue<unknown>[]): Problem {
  const fields = issues.map((issue) => ({
    field: issue.path?.map((p) => String(p.key)).join('.') || '(body)',
    message: issue.message,
  }));
  return problem(400, 'validation', fields.map((f) => `${f.field}: ${f.message}`).join('; '), { issues: fields });
}

function idOf(c: Context): number | undefined {
  const text = c.req.param('id') ?? '';
  return /^[1-9]\d{0,8}$/.test(text) ? Number(text) : undefined;
}

const notFound = (id: string | undefined): Problem => problem(404, 'not-found', `no squirrel ${id}`);

/** The API's routes, mounted at /api/squirrels; `log` hears of every change. */
export function squirrelRoutes(drey: Drey, log: (line: string) => void): Hono {
  const api = new Hono();
  const send = (c: Context, p: Problem): Response => c.json(p.body, p.status);

  api.get('/', (c) => {
    const species = c.req.query('species');
    const squirrels = drey.list().filter((s) => species === undefined || s.species === species);
    return c.json({ count: squirrels.length, squirrels });
  });

  api.post('/', async (c) => {
    const body = await readJson(c);
    if (!body.ok) return send(c, body.problem);
    const parsed = v.safeParse(NewSquirrel, body.value);
    if (!parsed.success) return send(c, validationProblem(parsed.issues));
    const squirrel = drey.add(parsed.output);
    if (!squirrel) return send(c, problem(507, 'full', `the drey holds at most ${MAX_SQUIRRELS} squirrels: delete some first`));
    log(`acorn: squirrel ${squirrel.id} "${squirrel.name}" created`);
    c.header('location', `/api/squirrels/${squirrel.id}`);
    return c.json(squirrel, 201);
  });

  api.get('/:id', (c) => {
    const id = idOf(c);
    const squirrel = id === undefined ? undefined : drey.get(id);
    return squirrel ? c.json(squirrel) : send(c, notFound(c.req.param('id')));
  });

  const change = (replace: boolean) => async (c: Context) => {
    const id = idOf(c);
    if (id === undefined || !drey.get(id)) return send(c, notFound(c.req.param('id')));
    const body = await readJson(c);
    if (!body.ok) return send(c, body.problem);
    const parsed = replace ? v.safeParse(NewSquirrel, body.value) : v.safeParse(SquirrelPatch, body.value);
    if (!parsed.success) return send(c, validationProblem(parsed.issues));
    const squirrel = drey.update(id, parsed.output)!;
    log(`acorn: squirrel ${id} "${squirrel.name}" ${replace ? 'replaced' : 'updated'}`);
    return c.json(squirrel);
  };
  api.put('/:id', change(true));
  api.patch('/:id', change(false));

  api.delete('/:id', (c) => {
    const id = idOf(c);
    const squirrel = id === undefined ? undefined : drey.get(id);
    if (!squirrel || !drey.delete(squirrel.id)) return send(c, notFound(c.req.param('id')));
    log(`acorn: squirrel ${squirrel.id} "${squirrel.name}" deleted`);
    return c.body(null, 204);
  });

  const allow = (methods: string) => (c: Context) => {
    c.header('allow', methods);
    return c.json({ error: 'method-not-allowed', message: `${c.req.method} is not one of ${methods}` }, 405);
  };
  api.all('/', allow('GET, HEAD, POST'));
  api.all('/:id', allow('GET, HEAD, PUT, PATCH, DELETE'));
  return api;
}

/** A few squirrels to start with. */
export function seed(drey: Drey): void {
  drey.add({ name: 'Nutkin', species: 'red', nuts: 42, notes: 'Asks Old Brown riddles.' });
  drey.add({ name: 'Hazel', species: 'grey', nuts: 318, notes: 'Buries more than she finds.' });
  drey.add({ name: 'Rocket', species: 'flying', nuts: 7, notes: 'Glides between the oaks.' });
}
