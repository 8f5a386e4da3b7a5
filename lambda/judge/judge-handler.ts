import { CheckAlarmsResult, JudgeResult } from '../shared/contracts';
import { readConfig } from '../shared/config';
import { checkAlarms } from './alarms';
import { judge } from './judge';
import { parseJudgeConfig, parseJudgeRequest } from './judge-request';

/** The rollout's judge: checkAlarms (preflight) / judge (alarms + metric analysis -> verdict). */
export async function handler(event: unknown): Promise<CheckAlarmsResult | JudgeResult> {
  const config = parseJudgeConfig(readConfig<unknown>());
  const request = parseJudgeRequest(event);
  switch (request.action) {
    case 'checkAlarms': return checkAlarms(config, request.targetColor);
    case 'judge': return judge(config, request);
  }
}
