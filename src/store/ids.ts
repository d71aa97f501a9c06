// Public ids: a prefix, the table's arrival sequence in fixed-width base 36 (so they sort as strings), and the
// database's random identity, so two databases (two relays, or a reset DATA_DIR) never hand out the same id.
const SEQ_WIDTH = 10;
export const DATABASE_ID_LENGTH = 8;
export const DATABASE_ID_SHAPE = /^[0-9a-z]{8}$/;

export type SequenceIds = {
  format: (seq: number) => string;
  /** The seq of an id of this database, or of the old form without the identity (ids handed out before it existed). */
  parse: (id: string) => number | undefined;
};

export function sequenceIds(prefix: string, databaseId: string): SequenceIds {
  if (!DATABASE_ID_SHAPE.test(databaseId)) throw new Error(`not a database identity: "${databaseId}"`);
  const shape = new RegExp(`^${prefix}([0-9a-z]{${SEQ_WIDTH}})(${databaseId})?$`);
  return {
    format: (seq) => prefix + seq.toString(36).padStart(SEQ_WIDTH, '0') + databaseId,
    parse: (id) => {
      const match = shape.exec(id);
      if (!match) return undefined;
      const seq = Number.parseInt(match[1]!, 36);
      return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
    },
  };
}

export type IdCodec = {
  formatEventId: SequenceIds['format'];
  parseEventId: SequenceIds['parse'];
  formatDeliveryId: SequenceIds['format'];
  parseDeliveryId: SequenceIds['parse'];
  /** The name every message about an alert carries (PagerDuty's dedup_key, the mail's Message-ID). */
  alertKey: (alertId: number) => string;
};

/** The id formats of the database whose identity is `databaseId` (its meta row 'database_id'). */
export function idCodec(databaseId: string): IdCodec {
  const events = sequenceIds('evt_', databaseId);
  const deliveries = sequenceIds('dlv_', databaseId);
  return {
    formatEventId: events.format,
    parseEventId: events.parse,
    formatDeliveryId: deliveries.format,
    parseDeliveryId: deliveries.parse,
    // With the identity, as public ids: alert 1 of another relay (or of this one before its data was reset) is another
    // PagerDuty incident and another mail, not one closed by, or hidden as a duplicate of, this one's.
    alertKey: (alertId) => `chatlio-relay-alert-${alertId}-${databaseId}`,
  };
}
