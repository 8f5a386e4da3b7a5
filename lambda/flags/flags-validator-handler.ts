/**
 * AppConfig's Lambda validator of a FeatureFlags profile. AppConfig runs its validators on a version of the flags
 * before it deploys it ("the configuration deployment or update can only proceed when the configuration data is
 * valid"), also a version created in the console or with the API, which the construct's synth-time check never
 * sees; when this function throws, the deployment does not proceed, with this error's message. It runs the same check as the synth: validateFlagsDocument,
 * which the profile's JSON Schema validator cannot fully express (a `serve` naming a variant that does not exist, a
 * percentage with more than two decimals...).
 *
 * Event (AWS AppConfig User Guide, "Understanding validators"): applicationId, configurationProfileId,
 * configurationVersion, content (the version, base64), uri.
 */
import { log } from '../shared/log';
import { InvalidFlagsDocumentError, parseFlagsDocument } from './validate';

export interface AppConfigValidationEvent {
  readonly applicationId?: string;
  readonly configurationProfileId?: string;
  readonly configurationVersion?: string;
  /** The version's content, base64-encoded. */
  readonly content?: string;
  readonly uri?: string;
}

export async function handler(event: AppConfigValidationEvent): Promise<{ valid: true; flags: number }> {
  const source = `flags version ${event?.configurationVersion ?? '(unknown)'} of AppConfig profile ${event?.configurationProfileId ?? '(unknown)'} (application ${event?.applicationId ?? '(unknown)'})`;
  if (typeof event?.content !== 'string') {
    throw new InvalidFlagsDocumentError([`content: expected the version's content as a base64 string, got ${event?.content === undefined ? 'nothing' : typeof event.content}`], source);
  }
  try {
    const doc = parseFlagsDocument(Buffer.from(event.content, 'base64'), source);
    const flags = Object.keys(doc.flags).length;
    log('info', 'flags version valid', { source, flags });
    return { valid: true, flags };
  } catch (err) {
    log('warn', 'flags version refused', { source, error: (err as Error).message });
    throw err;
  }
}
