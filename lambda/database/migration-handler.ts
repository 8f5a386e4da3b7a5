/**
 * The migration Lambda: one engine action per invocation, on a fresh connection built from the RDS secret in
 * Secrets Manager. The SchemaMigration state machine drives it: start -> backfillBatch (loop) -> validate ->
 * waitGate (task token) -> complete, and rollback on failure. releaseGate is the EventBridge target that
 * resumes the gate when the application rollout completes (or a ReleasePlan's call once all its parts passed);
 * rejectGate is a ReleasePlan's call after its traffic rollout rolled back: the execution rolls the migration back.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { Client } from 'pg';
import { stepFunctions } from '../shared/clients';
import { ErrorName } from '../shared/contracts';
import { readConfig } from '../shared/config';
import { awsCall, ZdtError } from '../shared/errors';
import { log } from '../shared/log';
import { pgClientConfig, pgTarget, readRdsSecret } from '../shared/rds-secret';
import { parseMigration } from './definition';
import { DEFAULT_CANCEL_GRACE_MS, MigrationEngine } from './engine';
import { MigrationError, MigrationErrorName } from './errors';
import { BackfillBatchResult, CancelResult, MAX_CANCEL_GRACE_MS, MigrationHandlerConfig, MigrationRequest } from './migration-contract';
import { Migration } from './types';
import { CALLER_RETRIES, withRetryPolicy } from '../shared/sdk-retries';

/** SendTaskSuccess errors meaning the waiting execution no longer exists. */
const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);


/** SendTaskFailure's cause is at most 32,768 characters (AWS Step Functions API Reference, SendTaskFailure). */
const MAX_CAUSE_LENGTH = 32_768;

/** Connect timeout: a database in the VPC answers in milliseconds; longer means networking is wrong. */
const CONNECT_TIMEOUT_MS = 10_000;

/** One connection per invocation, from the secret read for it (a new action reads a rotated password). */
async function connect(config: MigrationHandlerConfig): Promise<Client> {
  const s = await readRdsSecret(config.secretArn);
  const options = pgClientConfig(s, { tls: config.tls, applicationName: 'cdk-zero-downtime-migration', connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  const client = new Client(options);
  client.on('error', (err) => log('warn', 'database connection error', { error: err.message }));
  try {
    await client.connect();
  } catch (err) {
    throw new ZdtError(ErrorName.RETRYABLE, `Connecting to ${pgTarget(options)} as ${s.username} failed: ${(err as Error).message}`);
  }
  return client;
}

function migrationOf(request: { migration?: Migration }, config: MigrationHandlerConfig): Migration {
  const m = request.migration ?? config.migration;
  if (!m) throw new MigrationError(MigrationErrorName.INVALID, 'No migration: expected one in the request (state machine input "migration") or in the construct\'s migration prop, found neither');
  return parseMigration(m);
}

async function handle(request: MigrationRequest): Promise<unknown> {
  const config = readConfig<MigrationHandlerConfig>();
  if (!request || typeof request !== 'object' || typeof request.action !== 'string') {
    throw new ZdtError(ErrorName.INVALID_REQUEST, `Expected a request { action, migration? }, got ${JSON.stringify(request)}`);
  }
  const client = await connect(config);
  try {
    const engine = new MigrationEngine(client, {
      schema: config.schema,
      batchSize: config.batchSize,
      batchTargetMs: config.batchTargetMs,
      batchDelayMs: config.batchDelayMs,
      lockTimeoutMs: config.lockTimeoutMs,
      statementTimeoutMs: config.statementTimeoutMs,
      maxAttempts: config.maxLockAttempts,
      acknowledgeHighRisk: config.acknowledgeHighRisk,
      acknowledgeLogicalReplication: config.acknowledgeLogicalReplication,
    });
    log('info', 'migration action', { action: request.action });
    switch (request.action) {
      case 'plan':
        return await engine.plan(migrationOf(request, config));
      case 'start': {
        const { plan, status } = await engine.start(migrationOf(request, config));
        return { migration: plan.migration, status, risk: plan.risk, versionSchema: plan.versionSchema, previousVersionSchema: plan.previousVersionSchema };
      }
      case 'backfillBatch': {
        const p = await engine.backfill(migrationOf(request, config).name, { timeBudgetMs: config.backfillTimeBudgetMs });
        const result: BackfillBatchResult = {
          migration: p.migration, done: p.done, rowsDone: p.rowsDone, rowsTotal: p.rowsTotal,
          checkpoint: p.tables.map((t) => ({ table: t.table, lastKey: t.lastKey, rowsDone: t.rowsDone, done: t.done })),
        };
        return result;
      }
      case 'validate': {
        const report = await engine.validate(migrationOf(request, config).name);
        if (!report.ok) {
          throw new MigrationError(MigrationErrorName.VALIDATION_FAILED,
            `Migration ${report.migration} failed validation: ${report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
        }
        return report;
      }
      case 'complete': {
        const name = migrationOf(request, config).name;
        await engine.complete(name);
        return { migration: name, status: 'completed' };
      }
      case 'rollback': {
        const name = migrationOf(request, config).name;
        await engine.rollback(name);
        return { migration: name, status: 'rolled_back' };
      }
      case 'status':
        return await engine.status(migrationOf(request, config).name);
      case 'waitGate': {
        if (!request.taskToken) throw new ZdtError(ErrorName.INVALID_REQUEST, 'waitGate: expected a taskToken, found none');
        const name = migrationOf(request, config).name;
        await engine.setGate(name, request.taskToken);
        return { migration: name, waiting: true };
      }
      case 'releaseGate':
      case 'rejectGate': {
        const gate = await engine.waitingGate();
        if (!gate) {
          log('info', 'no migration waits at the gate', { schema: config.schema, action: request.action });
          return { released: null };
        }
        try {
          await (request.action === 'releaseGate'
            ? awsCall('states:SendTaskSuccess', () => stepFunctions().send(new SendTaskSuccessCommand({
              taskToken: gate.token, output: JSON.stringify({ released: true, reason: request.reason ?? 'rollout completed' }),
            })))
            : awsCall('states:SendTaskFailure', () => stepFunctions().send(new SendTaskFailureCommand({
              taskToken: gate.token, error: MigrationErrorName.ROLLBACK_REQUESTED,
              cause: (request.reason ?? 'rollback requested at the gate').slice(0, MAX_CAUSE_LENGTH),
            }))));
        } catch (err) {
          // The execution is gone (timed out, stopped): the token is useless; forget it and say so.
          if (!STALE_TOKEN_ERRORS.has((err as Error).name)) throw err;
          await engine.clearGate(gate.migration);
          log('warn', 'gate token no longer valid', { migration: gate.migration, error: (err as Error).message });
          return { released: null, staleToken: gate.migration };
        }
        await engine.clearGate(gate.migration);
        return request.action === 'releaseGate' ? { released: gate.migration } : { released: null, rejected: gate.migration };
      }
      case 'cancel': {
        const grace = request.graceMs ?? DEFAULT_CANCEL_GRACE_MS;
        if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > MAX_CANCEL_GRACE_MS) {
          throw new ZdtError(ErrorName.INVALID_REQUEST, `cancel: graceMs must be an integer from 0 to ${MAX_CANCEL_GRACE_MS} (ms), got ${JSON.stringify(request.graceMs)}`);
        }
        const result: CancelResult = await engine.cancel(grace);
        log('info', 'migration cancel', { ...result });
        return result;
      }
      default:
        throw new ZdtError(ErrorName.INVALID_REQUEST, `Unknown action ${JSON.stringify((request as { action: unknown }).action)}; expected plan, start, backfillBatch, validate, complete, rollback, status, waitGate, releaseGate, rejectGate or cancel`);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Invoked by a Step Functions task (its Retry is the retry layer) (lambda/shared/sdk-retries.ts). */
export const handler = withRetryPolicy(CALLER_RETRIES, handle);
