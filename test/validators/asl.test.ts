import { AslDefinition, AslState, forEachState, nestedDefinitions } from '../../rehearsal/asl';
import { synthesizedApps } from './matrix';
import { resolveApp, stateMachinesOfApp } from './resolve';

// asl-validator (Amazon States Language schema, transition targets, terminal states, duplicate names, paths):
// a third-party check of every definition the library synthesizes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator: (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => { isValid: boolean; errors: unknown[] } = require('asl-validator');

/** Step Functions quotas (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). */
const MAX_STATE_NAME_CHARS = 80;
const MAX_DEFINITION_BYTES = 1024 * 1024;

/** Every state a state can go to next: Next, a Choice's Choices and Default, and its Catch targets. */
function targetsOf(state: AslState): string[] {
  const targets: string[] = [];
  if (typeof state.Next === 'string') targets.push(state.Next);
  if (typeof state.Default === 'string') targets.push(state.Default);
  for (const choice of (state.Choices as Array<{ Next?: string }> | undefined) ?? []) if (choice.Next) targets.push(choice.Next);
  for (const c of (state.Catch as Array<{ Next: string }> | undefined) ?? []) targets.push(c.Next);
  return targets;
}

/**
 * Problems of one definition (and each nested Map or Parallel one, in its own scope) that Step Functions refuses
 * at CreateStateMachine / UpdateStateMachine: a target that names no state, a state not reachable from StartAt
 * (MISSING_TRANSITION_TARGET), a name longer than 80 characters.
 */
export function graphProblems(definition: AslDefinition, where = ''): string[] {
  const problems: string[] = [];
  const names = Object.keys(definition.States);
  if (!names.includes(definition.StartAt)) problems.push(`${where}StartAt "${definition.StartAt}" names no state`);
  const reached = new Set<string>();
  const queue = [definition.StartAt];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (reached.has(name) || !definition.States[name]) continue;
    reached.add(name);
    queue.push(...targetsOf(definition.States[name]));
  }
  for (const [name, state] of Object.entries(definition.States)) {
    if (!reached.has(name)) problems.push(`${where}state "${name}" is not reachable from StartAt "${definition.StartAt}"`);
    for (const target of targetsOf(state)) if (!definition.States[target]) problems.push(`${where}state "${name}" goes to "${target}", which does not exist`);
    if (name.length > MAX_STATE_NAME_CHARS) problems.push(`${where}state name "${name}" has ${name.length} characters (Step Functions allows ${MAX_STATE_NAME_CHARS})`);
    for (const nested of nestedDefinitions(state)) problems.push(...graphProblems(nested, `${where}${name} > `));
  }
  return problems;
}

const { matrix, example } = synthesizedApps();
const machines = [...stateMachinesOfApp(resolveApp(matrix)), ...stateMachinesOfApp(resolveApp(example))];
const cases = machines.map((m) => [`${m.stack}/${m.logicalId}`, m] as const);

describe('state machine definitions (asl-validator, reachability, Step Functions limits)', () => {
  test('the matrix covers every option that changes a definition, and the example app', () => {
    const stacks = new Set(machines.map((m) => m.stack));
    for (const name of ['RolloutDefaults', 'RolloutInconclusiveProceed', 'RolloutInconclusivePause', 'RolloutAnalysisOff', 'RolloutHealthAlarmsOff',
      'RolloutHooks', 'RolloutPauseSteps', 'RolloutSegmentFirst', 'RolloutAllAtOnceEventBus', 'MigrationGated', 'MigrationUngated',
      'BlueGreenDatabases', 'EverJust-router', 'EverJust-data']) {
      expect(stacks).toContain(name);
    }
  });

  test.each(cases)('%s passes asl-validator', (_, machine) => {
    const result = aslValidator(structuredClone(machine.definition), { checkPaths: true, checkArn: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  test.each(cases)('%s: every state reachable, every target exists, names and size within Step Functions limits', (_, machine) => {
    expect(graphProblems(machine.definition)).toEqual([]);
    const bytes = Buffer.byteLength(JSON.stringify(machine.definition), 'utf8');
    expect(bytes).toBeLessThanOrEqual(MAX_DEFINITION_BYTES);
  });

  test('the reachability check finds what asl-validator cannot: a state reached only from an unreachable one', () => {
    const definition: AslDefinition = {
      StartAt: 'A',
      States: { A: { Type: 'Succeed' }, Orphan: { Type: 'Pass', Next: 'Child' }, Child: { Type: 'Pass', End: true } },
    };
    expect(graphProblems(definition)).toEqual([
      'state "Orphan" is not reachable from StartAt "A"',
      'state "Child" is not reachable from StartAt "A"',
    ]);
    let names = 0;
    forEachState(definition, () => names++);
    expect(names).toBe(3);
  });
});
