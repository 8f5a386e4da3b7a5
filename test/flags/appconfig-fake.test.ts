/**
 * FakeAppConfig's validation, as AppConfig's documentation states it: a profile's validators run when a deployment
 * starts (JSON Schema draft 4, Lambda invoked with the documented event), a feature-flags profile's type check (the
 * whole schema, then the attribute constraints) runs when a hosted version is created; each refusal is
 * BadRequestException, Reason InvalidConfiguration.
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

  /** The InvalidConfiguration details of a refused CreateHostedConfigurationVersion. */
  const refusal = (create: () => unknown) => {
    try {
      create();
    } catch (err) {
      expect(err).toMatchObject({ name: 'BadRequestException', Reason: 'InvalidConfiguration' });
      return (err as { Details: { InvalidConfiguration: Array<{ Location: string; Reason: string }> } }).Details.InvalidConfiguration
        .map((d) => `${d.Location}: ${d.Reason}`);
    }
    throw new Error('the version was accepted');
  };

  test('a feature-flags profile checks every level of AppConfig\'s flag schema when the hosted version is created', () => {
    const w = world([], 'AWS.AppConfig.FeatureFlags');
    expect(w.version({ version: '1', flags: { checkout: { name: 'Checkout' } }, values: { checkout: { enabled: true } } })).toBe(1);
    expect(refusal(() => w.version({ flags: { Checkout: { name: 'Checkout' } } }))).toEqual([
      "/: must have required property 'version'",
      '/flags: must NOT have additional properties',
    ]);
    // Inner levels: a flag definition's properties, an attribute definition's constraints, a value's attributes, variants.
    expect(refusal(() => w.version({
      version: '1',
      flags: { checkout: { name: 'Checkout', owner: 'me', attributes: { share: { constraints: { type: 'percent' } } } } },
      values: { checkout: { enabled: 'yes', _variants: [{ name: 'new' }] } },
    }))).toEqual(expect.arrayContaining([
      '/flags/checkout: must NOT have additional properties',
      '/flags/checkout/attributes/share/constraints: must match exactly one schema in oneOf',
      '/values/checkout/enabled: must be boolean',
      "/values/checkout/_variants/0: must have required property 'enabled'",
    ]));
    // A flag's name is one line of at most 64 characters; the version is the string "1".
    expect(refusal(() => w.version({ version: 1, flags: { checkout: { name: 'a'.repeat(65) } } }))).toEqual([
      '/version: must be string',
      '/version: must be equal to one of the allowed values',
      '/flags/checkout/name: must match pattern "^[^\\n]{1,64}$"',
    ]);
  });

  test('a feature-flags profile checks each flag value\'s attributes against the constraints its flag defines', () => {
    const w = world([], 'AWS.AppConfig.FeatureFlags');
    const flags = {
      checkout: {
        attributes: {
          share: { constraints: { type: 'number', minimum: 0, maximum: 100, required: true } },
          tier: { constraints: { type: 'string', enum: ['basic', 'premium'] } },
          region: { constraints: { type: 'string', pattern: '^[a-z]{2}-[a-z]+-\\d$' } },
          cohorts: { constraints: { type: 'array', elements: { type: 'number', maximum: 9 } } },
        },
      },
    };
    expect(w.version({ version: '1', flags, values: { checkout: { enabled: true, share: 5, tier: 'basic', region: 'eu-west-1', cohorts: [1, 2] } } })).toBe(1);
    expect(refusal(() => w.version({ version: '1', flags, values: { checkout: { enabled: true, share: 150, tier: 'gold', region: 'Europe', cohorts: [1, 12] } } }))).toEqual([
      '/values/checkout/share: must be <= 100',
      '/values/checkout/tier: must be one of basic, premium',
      '/values/checkout/region: must match ^[a-z]{2}-[a-z]+-\\d$',
      '/values/checkout/cohorts/1: must be <= 9',
    ]);
    expect(refusal(() => w.version({ version: '1', flags, values: { checkout: { enabled: false } } }))).toEqual([
      '/values/checkout/share: attribute share of flag checkout is required',
    ]);
  });
});
