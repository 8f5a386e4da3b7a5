/**
 * FakeAppConfig's validation, as AppConfig's documentation states it: a profile's validators run when a deployment
 * starts (JSON Schema draft 4, Lambda invoked with the documented event), a feature-flags profile's type check runs
 * when a hosted version is created; each refusal is BadRequestException, Reason InvalidConfiguration.
 */
import { AwsFakes } from '../../rehearsal/fakes';
import { VirtualClock } from '../../rehearsal/virtual-clock';


function world(validators: Array<{ Type: string; Content: string }>, type?: string) {
  const aws = new AwsFakes({ clock: new VirtualClock() });
  const fake = aws.appconfig;
  const app = fake.createApplication('shop');
  const env = fake.createEnvironment(app);
  const profile = fake.createConfigurationProfile(app, 'flags', { type, validators });
  const strategy = fake.createDeploymentStrategy({ deploymentDurationInMinutes: 0, finalBakeTimeInMinutes: 0, growthFactor: 100 });
  const version = (content: unknown) => fake.createHostedConfigurationVersion({
    ApplicationId: app, ConfigurationProfileId: profile, Content: Buffer.from(JSON.stringify(content)), ContentType: 'application/json',
  }).VersionNumber;
  const deploy = (v: number) => fake.startDeployment({
    ApplicationId: app, EnvironmentId: env, ConfigurationProfileId: profile, ConfigurationVersion: String(v), DeploymentStrategyId: strategy,
  });
  return { fake, app, env, profile, version, deploy };
}

describe('FakeAppConfig validation', () => {
  test('StartDeployment runs a draft-04 JSON Schema validator and refuses an invalid version before any deployment starts', async () => {
    const schema = { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object', properties: { share: { type: 'number', maximum: 100, exclusiveMaximum: true } } };
    const w = world([{ Type: 'JSON_SCHEMA', Content: JSON.stringify(schema) }]);
    await expect(w.deploy(w.version({ share: 99 }))).resolves.toMatchObject({ DeploymentNumber: 1 });
    const refused = w.deploy(w.version({ share: 100 }));
    await expect(refused).rejects.toMatchObject({
      name: 'BadRequestException', Reason: 'InvalidConfiguration',
      Details: { InvalidConfiguration: [{ Type: 'JSON_SCHEMA', Constraint: 'exclusiveMaximum', Location: '/share', Reason: 'must be < 100' }] },
    });
    expect(w.fake.deployments(w.app, w.env)).toHaveLength(1);
  });

  test('a Lambda validator is invoked with the documented event, and its error refuses the deployment', async () => {
    const w = world([{ Type: 'LAMBDA', Content: 'arn:aws:lambda:us-east-1:111111111111:function:check' }]);
    const events: unknown[] = [];
    w.fake.setLambdaInvoker(async (arn, event) => {
      events.push({ arn, event });
      if (JSON.parse(Buffer.from((event as { content: string }).content, 'base64').toString()).ok !== true) throw new Error('not ok');
      return {};
    });
    const good = w.version({ ok: true });
    await w.deploy(good);
    expect(events[0]).toEqual({
      arn: 'arn:aws:lambda:us-east-1:111111111111:function:check',
      event: { applicationId: w.app, configurationProfileId: w.profile, configurationVersion: String(good), content: Buffer.from('{"ok":true}').toString('base64'), uri: 'hosted' },
    });
    await expect(w.deploy(w.version({ ok: false }))).rejects.toMatchObject({
      name: 'BadRequestException', Details: { InvalidConfiguration: [{ Type: 'LAMBDA', Reason: 'Lambda validator arn:aws:lambda:us-east-1:111111111111:function:check failed: not ok' }] },
    });
  });

  test('a Lambda validator the fake cannot run is an error, not a pass', async () => {
    const w = world([{ Type: 'LAMBDA', Content: 'arn:aws:lambda:us-east-1:111111111111:function:check' }]);
    await expect(w.deploy(w.version({}))).rejects.toThrow(/given no Lambda invoker/);
  });

  test('a feature-flags profile checks AppConfig\'s flag schema when the hosted version is created', () => {
    const w = world([], 'AWS.AppConfig.FeatureFlags');
    expect(w.version({ version: '1', flags: { checkout: { name: 'Checkout' } }, values: { checkout: { enabled: true } } })).toBe(1);
    let error: unknown;
    try {
      w.version({ flags: { Checkout: { name: 'Checkout', owner: 'me' } } });
    } catch (err) { error = err; }
    expect(error).toMatchObject({
      name: 'BadRequestException', Reason: 'InvalidConfiguration',
      Details: { InvalidConfiguration: [
        { Location: '/', Reason: "must have required property 'version'" },
        { Location: '/flags/Checkout', Reason: 'key must match ^[a-z][a-zA-Z\\d_-]{0,63}$' },
        { Location: '/flags/Checkout/owner', Reason: 'must NOT have additional properties' },
      ] },
    });
  });
});
