import { invalid, requireObject } from '../shared/validate';
import { completeLiveRoute, parseLiveRouteProperties } from './live-route';
import { EVENT, LiveRouteEvent } from './live-route-handler';

/** What the provider framework passes to isComplete: the event, with the physical id and Data onEvent returned. */
export interface LiveRouteCompleteEvent extends LiveRouteEvent {
  readonly Data?: { readonly RuleArn?: string };
}

export interface LiveRouteCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: { readonly RuleArn: string };
}

/**
 * isComplete handler of Custom::ZdtLiveRoute (custom_resources.Provider polls it every queryInterval until it
 * answers IsComplete or totalTimeout passes, which fails the resource: CloudFormation then rolls the update back).
 * An Update is complete once the target groups the live weights move to have healthy targets and the rule is
 * re-pointed; Create and Delete finish in onEvent.
 */
export async function handler(event: LiveRouteCompleteEvent): Promise<LiveRouteCompleteResponse> {
  const obj = requireObject(event, EVENT);
  if (obj.RequestType !== 'Update') return { IsComplete: true };
  const ruleArn = event.Data?.RuleArn ?? event.PhysicalResourceId;
  if (!ruleArn) throw invalid(EVENT, 'Data.RuleArn', 'the ARN of the live rule that onEvent returned', ruleArn);
  const done = await completeLiveRoute(
    ruleArn,
    parseLiveRouteProperties(event.ResourceProperties, 'ResourceProperties'),
    parseLiveRouteProperties(event.OldResourceProperties, 'OldResourceProperties'),
  );
  return done.complete ? { IsComplete: true, Data: { RuleArn: done.ruleArn } } : { IsComplete: false };
}
