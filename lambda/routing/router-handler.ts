import { RouterCheckTargetsResult, RouterDescribeResult, RouterShiftResult } from '../shared/contracts';
import { readConfig } from '../shared/config';
import { AlbRouter } from './alb-router';
import { parseRouterConfig, parseRouterRequest } from './router-request';
import { CALLER_RETRIES, withRetryPolicy } from '../shared/sdk-retries';

/** The rollout's traffic router: describe / checkTargets / shift / rollback on the ALB live route. */
async function handle(event: unknown): Promise<RouterDescribeResult | RouterCheckTargetsResult | RouterShiftResult> {
  const router = new AlbRouter(parseRouterConfig(readConfig<unknown>()));
  const request = parseRouterRequest(event);
  switch (request.action) {
    case 'describe': return router.describe();
    case 'checkTargets': return router.checkTargets(request.color, request.minHealthyPercent);
    case 'shift': return router.shift(request.targetColor, request.percent, request.segments);
    case 'rollback': return router.rollback(request.stableColor);
  }
}

/** Invoked by a Step Functions task (its Retry is the retry layer) (lambda/shared/sdk-retries.ts). */
export const handler = withRetryPolicy(CALLER_RETRIES, handle);
