// JSON parsing that drops __proto__ and constructor.prototype keys, so visitor-typed JSON cannot poison prototypes.
import sjson from 'secure-json-parse';

export function parseJson(text: string): unknown {
  return sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' });
}
