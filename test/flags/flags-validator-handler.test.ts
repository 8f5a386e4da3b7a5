import Ajv from 'ajv';
import { handler } from '../../lambda/flags/flags-validator-handler';
import { FLAGS_JSON_SCHEMA } from '../../lambda/flags/schema';

process.env.ZDT_LOG_LEVEL = 'silent';

/** The event AppConfig sends a Lambda validator (AWS AppConfig User Guide, "Understanding validators"). */
const event = (content: unknown) => ({
  applicationId: 'abc1234',
  configurationProfileId: 'prof567',
  configurationVersion: '7',
  content: Buffer.from(typeof content === 'string' ? content : JSON.stringify(content)).toString('base64'),
  uri: 'hosted',
});

describe('flags validator (AppConfig Lambda validator)', () => {
  test('accepts a valid version', async () => {
    const doc = { version: 1, flags: { 'new-checkout': { enabled: true, default: false, rules: [{ segments: ['beta'], serve: true }] } } };
    await expect(handler(event(doc))).resolves.toEqual({ valid: true, flags: 1 });
  });

  test('refuses a version the JSON Schema lets through, naming the version, the profile and the path', async () => {
    // Well-shaped for the schema (serve is a variant-like string), but it names a variant that does not exist.
    const doc = { version: 1, flags: { ranking: { enabled: true, variants: { classic: 'bm25' }, default: 'classic', rules: [{ percent: 10, serve: 'learned' }] } } };
    const { $schema, ...schema } = FLAGS_JSON_SCHEMA;
    expect(new Ajv({ strict: false }).validate(schema, doc)).toBe(true);
    const refused = handler(event(doc));
    await expect(refused).rejects.toThrow(/flags version 7 of AppConfig profile prof567 \(application abc1234\)/);
    await expect(refused).rejects.toThrow(/flags\.ranking\.rules\[0\]\.serve/);
    await expect(refused).rejects.toMatchObject({ name: 'InvalidFlagsDocumentError' });
  });

  test('refuses content that is not JSON, and an event without content', async () => {
    await expect(handler(event('{"version": 1, "flags": '))).rejects.toThrow(/expected JSON/);
    await expect(handler({ configurationProfileId: 'prof567' })).rejects.toThrow(/content: expected the version's content as a base64 string, got nothing/);
  });
});
