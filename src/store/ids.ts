// Public ids that encode a table's arrival sequence: a prefix and fixed-width base 36, so they sort as strings too.
const WIDTH = 10;

export function sequenceIds(prefix: string) {
  const shape = new RegExp(`^${prefix}[0-9a-z]{${WIDTH}}$`);
  return {
    format: (seq: number): string => prefix + seq.toString(36).padStart(WIDTH, '0'),
    parse: (id: string): number | undefined => {
      if (!shape.test(id)) return undefined;
      const seq = Number.parseInt(id.slice(prefix.length), 36);
      return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
    },
  };
}

const eventIds = sequenceIds('evt_');
export const formatEventId = eventIds.format;
export const parseEventId = eventIds.parse;

const deliveryIds = sequenceIds('dlv_');
export const formatDeliveryId = deliveryIds.format;
export const parseDeliveryId = deliveryIds.parse;
