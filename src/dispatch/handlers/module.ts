// The `module` handler: a handler of your own, loaded from a JS file that implements the exported Handler interface.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { defineHandlerType, type Handler, type HandlerDeps } from '../handler.js';

export const moduleOptions = z.strictObject({
  /** A .js/.mjs file, relative to the config file's directory. */
  path: z.string().min(1),
  /** Handed to the module's factory as its first argument. */
  options: z.record(z.string(), z.unknown()).optional(),
});

/** What the file must export as default: a factory of a Handler, or a Handler itself. */
export type HandlerModule = ((options: Record<string, unknown>, deps: HandlerDeps) => Handler | Promise<Handler>) | Handler;

const isHandler = (value: unknown): value is Handler =>
  typeof value === 'object' && value !== null && typeof (value as Handler).deliver === 'function';

export const moduleHandler = defineHandlerType({
  options: moduleOptions,
  create: async (options, deps) => {
    const file = resolve(deps.configDir, options.path);
    const loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
    const exported = loaded.default;
    const handler = typeof exported === 'function' ? await (exported as (o: unknown, d: HandlerDeps) => unknown)(options.options ?? {}, deps) : exported;
    if (!isHandler(handler)) {
      throw new Error(`${file} must export default a Handler ({ deliver(event, ctx) }) or a function returning one`);
    }
    return handler;
  },
});
