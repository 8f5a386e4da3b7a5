#!/usr/bin/env node
/**
 * zdt — the cdk-zero-downtime operator CLI.
 *
 *   zdt rehearse [--app <cmd>] [--rollout <path>] [--scenario <name>] [--strategy <name>] [--chart <file>] [--json]
 *   zdt plan     [--app <cmd>] [--plan <construct path>] [--json]
 *   zdt status   --state-machine <arn>
 *   zdt release  --state-machine <arn> [--target blue|green] [--reason <text>] [--watch]
 *   zdt watch    --state-machine <arn> [--execution <arn>]
 *   zdt promote  --state-machine <arn> [--full]
 *   zdt abort    --state-machine <arn> [--reason <text>]
 *   zdt migrate  plan|start|backfill|status|complete|rollback|cancel --database-url <url> <migration>
 *   zdt switchover status|approve|abort --state-machine <arn> [--reason <text>] [--by <name>]
 */
import '../rehearsal/polyfills';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { rehearseCommand } from './commands/rehearse';
import { planCommand } from './commands/plan';
import { statusCommand } from './commands/release-status';
import { parseArgs, requireOption, UsageError } from './commands/args';
import { migrateCommand } from './migrate';
import * as ops from './commands/rollout-ops';
import * as switchover from './commands/switchover-ops';

const USAGE = `usage: zdt <command> [options]

  rehearse   run a rollout locally on its synthesized state machine (no AWS needed)
  plan       print a release plan (ReleasePlan) before running it: steps, gates, what rolls back what (no AWS needed)
  status     show the running or last rollout (a release plan: every part)
  release    start a rollout (add --watch to follow it and exit non-zero on rollback)
  watch      follow a rollout until it ends
  promote    continue a rollout paused at a manual step (--full: skip the remaining steps to 100%, still judged)
  abort      roll back the running rollout (at its pause, or at its next judgement)
  migrate    expand/contract PostgreSQL migrations: plan | start | backfill | status | complete | rollback | cancel
  switchover an RDS blue/green switchover (BlueGreenDatabase): status | approve | abort

Run "zdt <command> --help" for a command's options.`;

/**
 * `zdt <command> --help` of the commands whose parser has no help of its own (rehearse, plan and migrate print theirs). The
 * region of every AWS call is the state machine ARN's (the rollout's table lives there too), or AWS_REGION if set.
 */
const COMMAND_USAGE: Readonly<Record<string, string>> = {
  status: `usage: zdt status --state-machine <arn>

  The running or last rollout of a state machine (a release plan's: every part): step, weights, bake, verdict, pause.`,
  release: `usage: zdt release --state-machine <arn> [--target blue|green] [--reason <text>] [--watch] [--interval <seconds>]

  Starts a rollout. --target: the color to release (default: the idle one); --reason: travels with every event;
  --watch: follow it and exit 0 released, 1 rolled back, 2 refused or failed, 3 rollback failed.`,
  watch: `usage: zdt watch --state-machine <arn> [--execution <arn>] [--interval <seconds>]

  Follows the running (or last, or given) rollout until it ends; exit 0 released, 1 rolled back, 2 refused or failed,
  3 rollback failed.`,
  promote: `usage: zdt promote --state-machine <arn> [--full]

  Continues a rollout paused at a manual step (a flag rollout's pause; a release plan's approval of the contract).
  --full: skips a traffic rollout's remaining steps, at its pause or, while it bakes, at its next judgement: the new
  color gets 100% next, and that step still bakes and is judged (a bad release still rolls back).`,
  abort: `usage: zdt abort --state-machine <arn> [--reason <text>]

  Rolls the running rollout back: at once if it is paused, else at its next judgement (a release plan's approval:
  refused, the plan halts without the contract).`,
  switchover: `usage: zdt switchover status|approve|abort --state-machine <arn> [--by <name>] [--reason <text>]

  An RDS blue/green switchover of a BlueGreenDatabase: its status, the approval it waits for (--by: who approves),
  or an abort (--reason).`,
};

export async function main(argv: string[], out: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') { out(USAGE); return 0; }
  if (COMMAND_USAGE[command] && rest.some((a) => a === '--help' || a === '-h')) { out(COMMAND_USAGE[command]); return 0; }
  try {
    switch (command) {
      case 'rehearse':
        return await rehearseCommand(rest, out);
      case 'migrate':
        return await migrateCommand(rest);
      case 'plan':
        return await planCommand(rest, out);
      case 'status': case 'release': case 'watch': case 'promote': case 'abort':
        return await opsCommand(command, rest, out);
      case 'switchover':
        return await switchoverCommand(rest, out);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`zdt ${command}: ${err.message}\n\n${USAGE}`);
      return ops.ExitCode.USAGE;
    }
    console.error(`zdt ${command}: ${(err as Error).name}: ${(err as Error).message}`);
    return ops.ExitCode.REFUSED_OR_FAILED;
  }
}

/** The clients of the commands on a state machine: in the ARN's region unless AWS_REGION says otherwise. */
function opsContext(out: (line: string) => void, stateMachineArn: string): ops.OpsContext {
  const region = process.env.AWS_REGION ?? regionOfArn(stateMachineArn);
  return { sfn: new SFNClient({ region }), ddb: new DynamoDBClient({ region }), out, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
}

/** The region of an ARN (arn:partition:service:region:account:...), or undefined (the SDK's own resolution). */
export function regionOfArn(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return arn.startsWith('arn:') && region ? region : undefined;
}

async function switchoverCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, { values: ['state-machine', 'reason', 'by'] });
  const [sub, ...extra] = args.positionals;
  if (!['status', 'approve', 'abort'].includes(sub ?? '') || extra.length > 0) {
    throw new UsageError(`switchover needs one of status | approve | abort, got ${JSON.stringify(args.positionals.join(' '))}`);
  }
  if (args.options.reason !== undefined && sub !== 'abort') throw new UsageError(`--reason goes with abort, not with ${sub}`);
  if (args.options.by !== undefined && sub !== 'approve') throw new UsageError(`--by goes with approve, not with ${sub}`);
  const stateMachine = requireOption(args, 'state-machine', 'state machine ARN of the BlueGreenDatabase');
  const ctx = opsContext(out, stateMachine);
  if (sub === 'status') return switchover.switchoverStatus(ctx, stateMachine);
  if (sub === 'approve') return switchover.approveSwitchover(ctx, stateMachine, (args.options.by as string | undefined) ?? process.env.USER ?? 'zdt');
  return switchover.abortSwitchover(ctx, stateMachine, (args.options.reason as string | undefined) ?? 'aborted with zdt switchover abort');
}

async function opsCommand(command: string, argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, { values: ['state-machine', 'target', 'reason', 'execution', 'interval'], flags: ['watch', 'full'] });
  const stateMachine = requireOption(args, 'state-machine', 'state machine ARN');
  const ctx = opsContext(out, stateMachine);
  const intervalMs = args.options.interval ? Number(args.options.interval) * 1000 : undefined;
  if (intervalMs !== undefined && !(intervalMs > 0)) throw new UsageError(`--interval must be a number of seconds above 0, got "${args.options.interval}"`);
  switch (command) {
    case 'status': return statusCommand(ctx, stateMachine);
    case 'release': return ops.release(ctx, stateMachine, {
      target: args.options.target as string | undefined,
      reason: args.options.reason as string | undefined,
      watch: args.options.watch === true,
      intervalMs,
    });
    case 'watch': {
      const execution = (args.options.execution as string | undefined) ?? await ops.runningExecution(ctx, stateMachine) ?? await ops.latestExecution(ctx, stateMachine);
      if (!execution) throw new UsageError(`no rollout has run on ${stateMachine}`);
      return ops.watch(ctx, execution, { intervalMs });
    }
    case 'promote': return ops.promote(ctx, stateMachine, { full: args.options.full === true });
    default: return ops.abort(ctx, stateMachine, (args.options.reason as string | undefined) ?? 'aborted with zdt abort');
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
