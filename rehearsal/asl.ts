/**
 * Amazon States Language shapes, loosely typed: the runner reads and rewrites definitions, it does
 * not author them (lib/ builds them with aws-cdk-lib/aws-stepfunctions).
 */

/** One state of a definition. */
export interface AslState {
  readonly Type: string;
  readonly [field: string]: unknown;
}

/** A state machine definition, or the ItemProcessor / Iterator of a Map, or a Parallel branch. */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly Comment?: string;
  readonly TimeoutSeconds?: number;
  readonly QueryLanguage?: string;
  readonly [field: string]: unknown;
}

/** One Retry entry. */
export interface AslRetrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'NONE' | 'FULL';
}

/** Calls `visit` for every state of the definition, nested Map and Parallel states included. */
export function forEachState(definition: AslDefinition, visit: (name: string, state: AslState, scope: AslDefinition) => void): void {
  for (const [name, state] of Object.entries(definition.States)) {
    visit(name, state, definition);
    for (const nested of nestedDefinitions(state)) forEachState(nested, visit);
  }
}

/** The definitions nested in a Map (ItemProcessor / Iterator) or Parallel (Branches) state. */
export function nestedDefinitions(state: AslState): AslDefinition[] {
  if (state.Type === 'Map') {
    const processor = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
    return processor ? [processor] : [];
  }
  if (state.Type === 'Parallel') return (state.Branches as AslDefinition[] | undefined) ?? [];
  return [];
}
