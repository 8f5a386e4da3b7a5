import { join } from 'node:path';
import { clock, setClock } from '../../lambda/shared/clock';
import { CONFIG_ENV } from '../../lambda/shared/contracts';
import { bindHandlers, CfnTemplate, findHandlerModule, HANDLER_METADATA_KEY, handlerFunctionsOf, VirtualClock } from '../../rehearsal';
import * as probeModule from './fixtures/probe-handler';
import { synthProbeTemplate } from './fixtures/probe-stack';

const FIXTURES = join(__dirname, 'fixtures');
const PROBE_FUNCTION = 'ProbeB22986FB';
const PROBE_ARN = `arn:aws:lambda:us-east-1:123456789012:function:${PROBE_FUNCTION}`;
const invocation = { functionName: PROBE_FUNCTION, stateName: 'Test', executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Rehearsal:test', attempt: 1 };

describe('bindHandlers', () => {
  let template: CfnTemplate;
  beforeAll(() => {
    template = synthProbeTemplate();
  });

  test('finds the functions that name a handler, with their resolved environment', () => {
    const [fn] = handlerFunctionsOf(template);
    expect(fn).toMatchObject({ handlerName: 'probe', functionName: PROBE_FUNCTION, functionArn: PROBE_ARN, timeoutSeconds: 10 });
    expect(JSON.parse(fn.environment[CONFIG_ENV])).toMatchObject({ label: 'probe', tableName: 'StateTable9728C7E5' });
  });

  test('binds each function by name and ARN to lambda/**/<name>-handler.ts, with its environment set only during the invocation', async () => {
    const lambdas = bindHandlers(template, {}, { lambdaRoot: FIXTURES });
    expect([...lambdas.keys()]).toEqual([PROBE_FUNCTION, PROBE_ARN]);
    expect(process.env[CONFIG_ENV]).toBeUndefined();

    const result = await lambdas.get(PROBE_ARN)!({ action: 'describe' }, invocation) as { config: unknown; functionName: string };
    expect(result.config).toEqual({ label: 'probe', tableName: 'StateTable9728C7E5', topicArn: 'arn:aws:sns:us-east-1:123456789012:Notifications87298708' });
    expect(result.functionName).toBe(PROBE_FUNCTION);
    expect(process.env[CONFIG_ENV]).toBeUndefined();
    expect(process.env.AWS_LAMBDA_FUNCTION_NAME).toBeUndefined();
  });

  test('restores the environment when the handler throws', async () => {
    process.env[CONFIG_ENV] = 'outer';
    try {
      const lambdas = bindHandlers(template, { probe: probeModule });
      await expect(lambdas.get(PROBE_FUNCTION)!({ action: 'fail', errorName: 'ZdtTargetsUnhealthy' }, invocation)).rejects.toMatchObject({ name: 'ZdtTargetsUnhealthy' });
      expect(process.env[CONFIG_ENV]).toBe('outer');
    } finally {
      delete process.env[CONFIG_ENV];
    }
  });

  test('runs invocations side by side, as on AWS, each seeing its own environment (writes included) and none of it outside', async () => {
    const c = new VirtualClock(0);
    const restore = setClock(c);
    try {
      const seen: string[] = [];
      const configOf = (label: string) => JSON.stringify({ label, tableName: 't', topicArn: 'a' });
      const twoFunctions: CfnTemplate = {
        Resources: Object.fromEntries(['A', 'B'].map((id) => [id, {
          Type: 'AWS::Lambda::Function',
          Metadata: { [HANDLER_METADATA_KEY]: 'probe' },
          Properties: { Environment: { Variables: { [CONFIG_ENV]: configOf(id) } } },
        }])),
      };
      const slowProbe = async () => {
        const label = JSON.parse(process.env[CONFIG_ENV]!).label as string;
        const startedAt = clock().now();
        process.env.PROBE_WRITE = label;
        await clock().sleep(label === 'A' ? 1000 : 500);
        seen.push(`${label}:${JSON.parse(process.env[CONFIG_ENV]!).label}:${process.env.PROBE_WRITE}:${'PROBE_WRITE' in process.env}:${startedAt}-${clock().now()}`);
        delete process.env.PROBE_WRITE;
        return Object.keys(process.env).includes(CONFIG_ENV);
      };
      const lambdas = bindHandlers(twoFunctions, { probe: slowProbe });
      const results = await Promise.all([lambdas.get('A')!({}, invocation), lambdas.get('B')!({}, invocation)]);
      // B started while A waited, and ended first: neither waited for the other, and each kept its own variables.
      expect(seen).toEqual(['B:B:B:true:0-500', 'A:A:A:true:0-1000']);
      expect(results).toEqual([true, true]);
      expect(process.env[CONFIG_ENV]).toBeUndefined();
      expect(process.env.PROBE_WRITE).toBeUndefined();
    } finally {
      restore();
    }
  });

  test('says which handler module is missing', () => {
    expect(() => bindHandlers(template, {}, { lambdaRoot: join(FIXTURES, 'nowhere') }))
      .toThrow(/function ProbeB22986FB runs handler "probe", but no probe-handler.ts \(or .js\) exists under .*nowhere/);
    expect(() => bindHandlers(template, { probe: { handler: undefined } as never })).toThrow(/to export a function named "handler"/);
  });

  test('finds handler modules in nested folders', () => {
    expect(findHandlerModule('probe', join(__dirname, '..'))).toBe(join(FIXTURES, 'probe-handler.ts'));
    expect(findHandlerModule('absent', FIXTURES)).toBeUndefined();
  });
});
