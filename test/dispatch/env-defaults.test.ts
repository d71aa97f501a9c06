import { describe, expect, it } from 'vitest';
import { DispatchConfigError, parseDispatchConfig } from '../../src/dispatch/config.js';

const forward = (url: string) => ({ handlers: [{ name: 'forward', type: 'http', events: '*', options: { url } }] });
const urlOf = (url: string, env: NodeJS.ProcessEnv) => (parseDispatchConfig(forward(url), 'config.yaml', env).handlers[0]!.options as { url: string }).url;

describe('defect 9: ${VAR:-default} in the config file', () => {
  it('uses the default when the variable is unset or empty, and the variable when it is set', () => {
    expect(urlOf('${FORWARD_URL:-https://hooks.acme.test/chatlio}', {})).toBe('https://hooks.acme.test/chatlio');
    expect(urlOf('${FORWARD_URL:-https://hooks.acme.test/chatlio}', { FORWARD_URL: '' })).toBe('https://hooks.acme.test/chatlio');
    expect(urlOf('${FORWARD_URL:-https://hooks.acme.test/chatlio}', { FORWARD_URL: 'http://127.0.0.1:9/in' })).toBe('http://127.0.0.1:9/in');
  });

  it('substitutes several in one value, defaults or not', () => {
    expect(urlOf('${SCHEME:-https}://${HOST}/${PATH_PART:-in}', { HOST: 'relay.test:8080' })).toBe('https://relay.test:8080/in');
  });

  it('still refuses an unset ${VAR} without a default, naming it and the field', () => {
    expect(() => urlOf('${FORWARD_URL}', {})).toThrow(DispatchConfigError);
    expect(() => urlOf('${FORWARD_URL}', {})).toThrow('handlers[0].options.url: environment variable FORWARD_URL is not set');
  });

  it('lets an empty default stand for an empty value, which the field then judges', () => {
    expect(() => urlOf('${FORWARD_URL:-}', {})).toThrow(/handlers\[0\]\.options\.url: .*URL/i);
  });
});
