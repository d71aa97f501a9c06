// The rejections table: bodies refused with 422, kept with their errors, oldest dropped past a cap.
import type { Db } from './db.js';
import type { EventType } from '../../chatlio/index.js';
import type { FieldError, RejectionRow } from '../storage.js';
import { toRejection, type RawRejection } from '../rows.js';


export type RejectionStore = ReturnType<typeof rejectionStore>;

export function rejectionStore(db: Db, options: { max: number }) {
  const insert = db.prepare<[string, number, Buffer, string], { id: number }>(
    'INSERT INTO rejections (type, received_at, raw, errors) VALUES (?, ?, ?, ?) RETURNING id',
  );
  const prune = db.prepare<[number], void>('DELETE FROM rejections WHERE id <= ?');
  const byId = db.prepare<[number], RawRejection>('SELECT id, type, received_at, raw, errors FROM rejections WHERE id = ?');
  const remove = db.prepare<[number], void>('DELETE FROM rejections WHERE id = ?');
  const page = db.prepare<[number, number], RawRejection>(
    'SELECT id, type, received_at, raw, errors FROM rejections WHERE id < ? ORDER BY id DESC LIMIT ?',
  );

  return {
    /** Keeps the body and its errors, dropping the oldest rows beyond the cap. */
    insert(type: EventType, receivedAt: number, raw: Buffer, errors: FieldError[]): number {
      const { id } = insert.get(type, receivedAt, raw, JSON.stringify(errors))!;
      prune.run(id - options.max);
      return id;
    },
    get(id: number): RejectionRow | undefined {
      const row = byId.get(id);
      return row ? toRejection(row) : undefined;
    },
    remove(id: number): void {
      remove.run(id);
    },
    /** Newest first, strictly before `before` when given. */
    list(options: { before?: number; limit: number }): RejectionRow[] {
      return page.all(options.before ?? Number.MAX_SAFE_INTEGER, options.limit).map(toRejection);
    },
  };
}
