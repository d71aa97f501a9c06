// Which handlers an event goes to: by type ("*" for all) and by `when` conditions on payload fields.
import { z } from 'zod';
import type { EventType } from '../chatlio/index.js';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
type Scalar = z.infer<typeof scalar>;

/** "pattern" or "/pattern/flags"; refused at load time when it does not compile. */
export function compileRegExp(source: string): RegExp {
  const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(source);
  return literal ? new RegExp(literal[1]!, literal[2]!.replace('g', '')) : new RegExp(source);
}

const pattern = z.string().refine(
  (source) => {
    try {
      compileRegExp(source);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression' },
);

export const OPERATORS = ['equals', 'in', 'contains', 'exists', 'startsWith', 'endsWith', 'matches'] as const;

const operatorSchema = z
  .strictObject({
    equals: scalar.optional(),
    in: z.array(scalar).optional(),
    contains: scalar.optional(),
    exists: z.boolean().optional(),
    startsWith: z.string().optional(),
    endsWith: z.string().optional(),
    matches: pattern.optional(),
  })
  .refine((ops) => Object.keys(ops).length > 0, { message: `give at least one of ${OPERATORS.join(', ')}` });

/** A bare value means `equals`; an object combines operators, all of which must hold. */
export const conditionSchema = z.union([scalar, operatorSchema]);

/** Field path (dotted, into the payload) → condition; every entry must hold. */
export const whenSchema = z.record(z.string().min(1), conditionSchema);
export type When = z.infer<typeof whenSchema>;

export type Rule = {
  events: readonly EventType[] | '*';
  when?: When;
};

/** Reads `visitor.email` or `extraData.0` out of a payload; undefined when any step is missing. */
export function fieldAt(payload: unknown, path: string): unknown {
  let value: unknown = payload;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    if (!Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

// Chatlio sends "" for a missing value, so "exists" means present, not null and not an empty string.
const present = (value: unknown) => value !== undefined && value !== null && value !== '';

function holds(value: unknown, condition: z.infer<typeof conditionSchema>): boolean {
  if (condition === null || typeof condition !== 'object') return value === condition;
  const ops = condition;
  if ('equals' in ops && value !== ops.equals) return false;
  if (ops.in !== undefined && !ops.in.includes(value as Scalar)) return false;
  if (ops.contains !== undefined) {
    if (Array.isArray(value)) {
      if (!value.includes(ops.contains)) return false;
    } else if (typeof value !== 'string' || typeof ops.contains !== 'string' || !value.includes(ops.contains)) {
      return false;
    }
  }
  if (ops.exists !== undefined && present(value) !== ops.exists) return false;
  if (ops.startsWith !== undefined && (typeof value !== 'string' || !value.startsWith(ops.startsWith))) return false;
  if (ops.endsWith !== undefined && (typeof value !== 'string' || !value.endsWith(ops.endsWith))) return false;
  if (ops.matches !== undefined && (typeof value !== 'string' || !compileRegExp(ops.matches).test(value))) return false;
  return true;
}

export function matchesWhen(when: When | undefined, payload: unknown): boolean {
  if (!when) return true;
  return Object.entries(when).every(([path, condition]) => holds(fieldAt(payload, path), condition));
}

export function matchesRule(rule: Rule, type: EventType, payload: unknown): boolean {
  if (rule.events !== '*' && !rule.events.includes(type)) return false;
  return matchesWhen(rule.when, payload);
}
