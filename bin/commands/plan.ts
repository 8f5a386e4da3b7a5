/**
 * `zdt plan`: print a release plan (ReleasePlan) before running it: its steps in order, what each waits for, what
 * happens when it fails, and the rollback story. Offline: it reads the plan document the construct writes into the
 * synthesized template (CloudFormation Metadata of its state machine); no AWS call.
 *
 *   zdt plan [--app <cmd>] [--plan <construct path>] [--json]
 */
import { App } from 'aws-cdk-lib';
import { addEverJustData } from '../everjust-data';
import { createEverJust } from '../everjust';
import { describePlan, RELEASE_PLAN_METADATA_KEY, ReleasePlanDocument } from '../../lambda/release/release-plan-contract';
import type { StackTemplate } from '../../rehearsal/deployer';
import { parseArgs, UsageError } from './args';
import { ExitCode } from './rollout-ops';
import { synthesizeApp } from './rehearse';

export const PLAN_USAGE = `usage: zdt plan [--app <cmd>] [--plan <construct path>] [--json]

Prints a release plan (ReleasePlan) from the synthesized app, before running it: the steps in order, what each
waits for, what happens when one fails, and the rollback story. No AWS call.

  --app <cmd>    synthesize your CDK app with this command (as in cdk.json's "app"); default: the example app
  --plan <path>  construct path of the ReleasePlan, when the app has several
  --json         print the plan document as JSON`;

/** The plan documents of the stacks' release plans. */
export function releasePlansOf(stacks: readonly StackTemplate[]): ReleasePlanDocument[] {
  return stacks.flatMap((s) => Object.values(s.template.Resources ?? {})
    .map((r) => r.Metadata?.[RELEASE_PLAN_METADATA_KEY] as ReleasePlanDocument | undefined)
    .filter((d): d is ReleasePlanDocument => d !== undefined));
}

/** The plan `path` names (the whole construct path or its tail), or the only one. */
export function selectPlan(plans: readonly ReleasePlanDocument[], path: string | undefined, what: string): ReleasePlanDocument {
  if (plans.length === 0) throw new UsageError(`${what} has no ReleasePlan`);
  if (path === undefined) {
    if (plans.length > 1) throw new UsageError(`${what} has ${plans.length} release plans (${plans.map((p) => p.path).join(', ')}); pick one with --plan`);
    return plans[0];
  }
  const found = plans.filter((p) => p.path === path || p.path.endsWith(`/${path}`));
  if (found.length !== 1) throw new UsageError(`--plan "${path}" names ${found.length} of the release plans (${plans.map((p) => p.path).join(', ')})`);
  return found[0];
}

/** The example app (router, colors and data stacks), synthesized in-process. */
function exampleStacks(): StackTemplate[] {
  const app = new App({ builtinCloudFormationValidation: false });
  addEverJustData(app, createEverJust(app));
  return app.synth().stacks.map((s) => ({ stackName: s.stackName, template: s.template }));
}

export async function planCommand(argv: string[], out: (line: string) => void,
  env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): Promise<number> {
  const args = parseArgs(argv, { values: ['app', 'plan'], flags: ['json', 'help'] });
  if (args.options.help) { out(PLAN_USAGE); return ExitCode.SUCCEEDED; }
  if (args.positionals.length > 0) throw new UsageError(`plan takes no positional arguments, got ${JSON.stringify(args.positionals.join(' '))}`);
  const command = args.options.app as string | undefined;
  const stacks = command ? synthesizeApp(command, cwd, env) : exampleStacks();
  const plan = selectPlan(releasePlansOf(stacks), args.options.plan as string | undefined, command ? `--app "${command}"` : 'the example app');
  if (args.options.json) out(JSON.stringify(plan, null, 2));
  else for (const line of describePlan(plan)) out(line);
  return ExitCode.SUCCEEDED;
}
