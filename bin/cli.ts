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

export async function main(argv: string[], out: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') { out(USAGE); return 0; }
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

function opsContext(out: (line: string) => void): ops.OpsContext {
  return { sfn: new SFNClient({}), ddb: new DynamoDBClient({}), out, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
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
  const ctx = opsContext(out);
  if (sub === 'status') return switchover.switchoverStatus(ctx, stateMachine);
  if (sub === 'approve') return switchover.approveSwitchover(ctx, stateMachine, (args.options.by as string | undefined) ?? process.env.USER ?? 'zdt');
  return switchover.abortSwitchover(ctx, stateMachine, (args.options.reason as string | undefined) ?? 'aborted with zdt switchover abort');
}

async function opsCommand(command: string, argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, { values: ['state-machine', 'target', 'reason', 'execution', 'interval'], flags: ['watch', 'full'] });
  const stateMachine = requireOption(args, 'state-machine', 'state machine ARN');
  const ctx = opsContext(out);
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
