import { CheckAlarmsResult, JudgeResult } from '../shared/contracts';
import { readConfig } from '../shared/config';
import { checkAlarms } from './alarms';
import { judge } from './judge';
import { parseJudgeConfig, parseJudgeRequest } from './judge-request';
import { CALLER_RETRIES, withRetryPolicy } from '../shared/sdk-retries';

/** The rollout's judge: checkAlarms (preflight) / judge (alarms + metric analysis -> verdict). */
async function handle(event: unknown): Promise<CheckAlarmsResult | JudgeResult> {
  const config = parseJudgeConfig(readConfig<unknown>());
  const request = parseJudgeRequest(event);
  switch (request.action) {
    case 'checkAlarms': return checkAlarms(config, request.targetColor);
    case 'judge': return judge(config, request);
  }
}

/** Invoked by a Step Functions task (its Retry is the retry layer) (lambda/shared/sdk-retries.ts). */
export const handler = withRetryPolicy(CALLER_RETRIES, handle);
