import { CfnTemplate, HANDLER_METADATA_KEY, handlerFunctionsOf } from '../../rehearsal';
import { lambdaFunctionsOf } from '../../rehearsal/handlers';
import { estimateCost, lambdaUsageOf } from '../../rehearsal/cost';
import type { StackTemplate } from '../../rehearsal/deployer';
import { rehearse } from '../../rehearsal/rehearse';
import type { RuleInvocation } from '../../rehearsal/simulation-events';
import type { RunResult } from '../../rehearsal/runner';
import { synthEverJust } from './scenarios-support';

// Prices written out here (not imported), so that the tests check cost.ts's arithmetic rather than repeat it.
const USD_PER_TRANSITION = 0.000025;
const USD_PER_REQUEST = 0.0000002;
const USD_PER_GB_SECOND = { x86_64: 0.0000166667, arm64: 0.0000133334 } as const;
/** The billed duration the estimate assumes per invocation, seconds. */
const BILLED_SECONDS = 0.2;
/** Absolute tolerance, USD: the estimates are sums of a few hundred terms near 1e-6. */
const TOLERANCE_USD = 1e-12;

type Architecture = keyof typeof USD_PER_GB_SECOND;
const invocationUsd = (memoryMb: number, architecture: Architecture) =>
  USD_PER_REQUEST + (memoryMb / 1024) * BILLED_SECONDS * USD_PER_GB_SECOND[architecture];

function lambdaFunction(handler: string, properties: Record<string, unknown> = {}) {
  return {
    Type: 'AWS::Lambda::Function',
    Metadata: { [HANDLER_METADATA_KEY]: handler },
    Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x', ...properties },
  };
}

/** An x86_64 function of 1024 MB (memory from a parameter's default), an arm64 one of 256 MB, one with neither. */
const template: CfnTemplate = {
  Parameters: { RouterMemory: { Type: 'Number', Default: '1024' } },
  Resources: {
    Router: lambdaFunction('router', { MemorySize: { Ref: 'RouterMemory' }, Architectures: ['x86_64'] }),
    Judge: lambdaFunction('judge', { MemorySize: 256, Architectures: [{ 'Fn::If': ['OnGraviton', 'arm64', 'x86_64'] }] }),
    Lock: lambdaFunction('lock'),
  },
  Conditions: { OnGraviton: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] } },
};

describe('handlerFunctionsOf (memory and architecture)', () => {
  test('reads each function\'s MemorySize and Architectures, resolved, with Lambda\'s defaults where absent', () => {
    const functions = handlerFunctionsOf(template);
    expect(functions.map((f) => [f.logicalId, f.memorySize, f.architecture])).toEqual([
      ['Router', 1024, 'x86_64'],
      ['Judge', 256, 'arm64'],
      ['Lock', 128, 'x86_64'],
    ]);
  });

  test('fails naming the function and the property when MemorySize cannot be resolved', () => {
    const broken: CfnTemplate = {
      Parameters: { Memory: { Type: 'Number' } },
      Resources: { Router: lambdaFunction('router', { MemorySize: { Ref: 'Memory' } }) },
    };
    expect(() => handlerFunctionsOf(broken)).toThrow(/could not resolve MemorySize of Lambda function Router: .*parameter "Memory" has no Default/);
  });

  test('fails naming the function and the property when Architectures cannot be resolved', () => {
    const broken: CfnTemplate = { Resources: { Judge: lambdaFunction('judge', { Architectures: [{ 'Fn::ImportValue': 'SharedArchitecture' }] }) } };
    expect(() => handlerFunctionsOf(broken)).toThrow(/could not resolve Architectures of Lambda function Judge: .*SharedArchitecture/);
  });

  test('fails naming the reader, the function and the value when it resolves to something Lambda does not accept', () => {
    const memory: CfnTemplate = { Resources: { Lock: lambdaFunction('lock', { MemorySize: 'plenty' }) } };
    expect(() => handlerFunctionsOf(memory)).toThrow(/^handlerFunctionsOf: expected MemorySize of Lambda function Lock to resolve to an integer from 128 to 10240 \(MB\), found "plenty"/);
    expect(() => lambdaFunctionsOf(memory)).toThrow(/^lambdaFunctionsOf: expected MemorySize of Lambda function Lock/);
    const architecture: CfnTemplate = { Resources: { Lock: lambdaFunction('lock', { Architectures: ['arm64', 'x86_64'] }) } };
    expect(() => handlerFunctionsOf(architecture)).toThrow(/Architectures of Lambda function Lock to resolve to one of \["arm64"\], \["x86_64"\], found \["arm64","x86_64"\]/);
  });
});

describe('estimateCost', () => {
  test('prices each function at its own memory and architecture', () => {
    const usage = lambdaUsageOf(handlerFunctionsOf(template), { Router: 3, Judge: 5, Lock: 2 }, 'the test template');
    const estimate = estimateCost({ stateTransitions: 40, lambdas: usage });

    // Router: 3 x 1 GB x 0.2 s on x86_64; Judge: 5 x 0.25 GB x 0.2 s on arm64; Lock: 2 x 0.125 GB x 0.2 s on x86_64.
    expect(estimate.lambdaDurationUsd).toBeCloseTo(3 * 0.2 * 0.0000166667 + 5 * 0.05 * 0.0000133334 + 2 * 0.025 * 0.0000166667, 15);
    expect(estimate.lambdaRequestsUsd).toBeCloseTo(10 * USD_PER_REQUEST, 15);
    expect(estimate.stepFunctionsUsd).toBeCloseTo(40 * USD_PER_TRANSITION, 15);
    expect(estimate.totalUsd).toBeCloseTo(estimate.stepFunctionsUsd + estimate.lambdaRequestsUsd + estimate.lambdaDurationUsd, 15);
  });

  test('prices a function without MemorySize and Architectures at Lambda\'s defaults (128 MB, x86_64)', () => {
    const usage = lambdaUsageOf(handlerFunctionsOf(template), { Lock: 1000 }, 'the test template');
    expect(usage).toEqual([{ functionName: 'Lock', invocations: 1000, memoryMb: 128, architecture: 'x86_64' }]);
    expect(estimateCost({ stateTransitions: 0, lambdas: usage }).totalUsd).toBeCloseTo(1000 * invocationUsd(128, 'x86_64'), 15);
  });

  test('refuses to price invocations of a function the template does not have', () => {
    expect(() => lambdaUsageOf(handlerFunctionsOf(template), { Ghost: 1 }, 'stack Test'))
      .toThrow('estimateCost: expected Lambda function "Ghost" (invoked 1 times) to be a Lambda function of stack Test, found none of that name (functions: Router, Judge, Lock)');
  });
});

describe('rehearse (estimated cost)', () => {
  test('bills every invocation at the memory and architecture of the function that ran it', async () => {
    // The example app, with its router on x86_64 at 1024 MB and its judge at Lambda's defaults; the rest stay arm64, 256 MB.
    const stacks: StackTemplate[] = JSON.parse(JSON.stringify(synthEverJust()));
    const billing = new Map<string, { memoryMb: number; architecture: Architecture }>();
    for (const { template: t } of stacks) {
      for (const [logicalId, resource] of Object.entries(t.Resources ?? {})) {
        const handler = resource.Metadata?.[HANDLER_METADATA_KEY];
        if (resource.Type !== 'AWS::Lambda::Function' || handler === undefined) continue;
        const properties = resource.Properties as Record<string, unknown>;
        if (handler === 'router') Object.assign(properties, { MemorySize: 1024, Architectures: ['x86_64'] });
        if (handler === 'judge') { delete properties.MemorySize; delete properties.Architectures; }
        billing.set(logicalId, handler === 'router' ? { memoryMb: 1024, architecture: 'x86_64' }
          : handler === 'judge' ? { memoryMb: 128, architecture: 'x86_64' }
            : { memoryMb: Number(properties.MemorySize), architecture: (properties.Architectures as Architecture[])[0] });
      }
    }

    let run: RunResult | undefined;
    let ruleInvocations: RuleInvocation[] = [];
    const result = await rehearse(stacks, {
      scenario: 'healthy-release',
      inspect: ({ simulation }) => {
        run = simulation.executions[0].run;
        ruleInvocations = simulation.ruleInvocations(run);
      },
    });

    // Function names are the logical ids (the rehearsal's placeholder physical names).
    const invoked = [...Object.entries(run!.taskInvocations.byFunction), ...ruleInvocations.map((i) => [i.functionName, 1] as const)];
    const billingOf = (id: string) => {
      const known = billing.get(id);
      if (!known) throw new Error(`expected ${id} to be one of the app's handler functions (${[...billing.keys()].join(', ')})`);
      return known;
    };
    const lambdaUsd = invoked.reduce((sum, [name, count]) => sum + count * invocationUsd(billingOf(name).memoryMb, billingOf(name).architecture), 0);
    const routerInvocations = invoked.filter(([name]) => billingOf(name).memoryMb === 1024).reduce((sum, [, count]) => sum + count, 0);
    const judgeInvocations = invoked.filter(([name]) => billingOf(name).memoryMb === 128).reduce((sum, [, count]) => sum + count, 0);
    expect(routerInvocations).toBeGreaterThan(0);
    expect(judgeInvocations).toBeGreaterThan(0);

    const { summary } = result;
    expect(summary.outcome).toBe('RELEASED');
    expect(summary.lambdaInvocations).toBe(invoked.reduce((sum, [, count]) => sum + count, 0));
    expect(Math.abs(summary.estimatedCostUsd - (summary.stateTransitions * USD_PER_TRANSITION + lambdaUsd))).toBeLessThan(TOLERANCE_USD);
  });
});

describe('lambdaFunctionsOf', () => {
  test('sizes only the functions asked for: one nobody invoked is never resolved', () => {
    const t: CfnTemplate = {
      Resources: {
        Hook: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler', MemorySize: 512 } },
        Unrelated: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler', MemorySize: { 'Fn::ImportValue': 'NotHere' } } },
      },
    };
    expect(() => lambdaFunctionsOf(t)).toThrow(/could not resolve MemorySize of Lambda function Unrelated/);
    expect(lambdaFunctionsOf(t, {}, new Set(['Hook']))).toEqual([{ logicalId: 'Hook', functionName: 'Hook', memorySize: 512, architecture: 'x86_64' }]);
  });
});

