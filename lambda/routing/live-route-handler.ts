import { LiveRouteProperties } from '../shared/contracts';
import { invalid, requireObject } from '../shared/validate';
import { createLiveRoute, deleteLiveRoute, LiveRouteSpec, parseLiveRouteProperties, updateLiveRoute } from './live-route';
import { ownerOf } from './live-route-owner';
import { SDK_RETRIES, withRetryPolicy } from '../shared/sdk-retries';

/**
 * The CloudFormation event the custom_resources.Provider framework passes to onEvent (the fields we use); see
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html.
 */
export interface LiveRouteEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: LiveRouteProperties & { readonly ServiceToken?: string };
  readonly OldResourceProperties?: LiveRouteProperties & { readonly ServiceToken?: string };
  readonly PhysicalResourceId?: string;
  readonly LogicalResourceId?: string;
  readonly RequestId?: string;
  readonly StackId?: string;
  readonly ResourceType?: string;
}

export interface LiveRouteResponse {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly RuleArn: string };
}

const EVENT = 'Live route event';

/** The properties of a Delete, or undefined when they do not parse (a Create that failed on them): a Delete goes on. */
function deleteSpec(event: LiveRouteEvent): LiveRouteSpec | undefined {
  try {
    return parseLiveRouteProperties(event.ResourceProperties, 'ResourceProperties');
  } catch {
    return undefined;
  }
}

/**
 * onEvent handler of Custom::ZdtLiveRoute. A deploy never moves live traffic, and never routes it to target groups
 * without healthy targets: see live-route.ts.
 */
async function handle(event: LiveRouteEvent): Promise<LiveRouteResponse | { readonly PhysicalResourceId?: string }> {
  const obj = requireObject(event, EVENT);
  switch (obj.RequestType) {
    case 'Create': {
      const ruleArn = await createLiveRoute(parseLiveRouteProperties(event.ResourceProperties, 'ResourceProperties'), ownerOf(event, EVENT));
      return { PhysicalResourceId: ruleArn, Data: { RuleArn: ruleArn } };
    }
    case 'Update': {
      if (!event.PhysicalResourceId) throw invalid(EVENT, 'PhysicalResourceId', 'the ARN of the live rule', event.PhysicalResourceId);
      const update = await updateLiveRoute(
        event.PhysicalResourceId,
        parseLiveRouteProperties(event.ResourceProperties, 'ResourceProperties'),
        parseLiveRouteProperties(event.OldResourceProperties, 'OldResourceProperties'),
        ownerOf(event, EVENT),
      );
      return { PhysicalResourceId: update.physicalResourceId, Data: { RuleArn: update.ruleArn } };
    }
    case 'Delete':
      await deleteLiveRoute(event.PhysicalResourceId, deleteSpec(event), ownerOf(event, EVENT));
      // The provider framework refuses a Delete that changes the physical id: hand back the same.
      return event.PhysicalResourceId ? { PhysicalResourceId: event.PhysicalResourceId } : {};
    default:
      throw invalid(EVENT, 'RequestType', '"Create", "Update" or "Delete"', obj.RequestType);
  }
}

/** Invoked by CloudFormation (custom resource), which does not retry: the SDK does (lambda/shared/sdk-retries.ts). */
export const handler = withRetryPolicy(SDK_RETRIES, handle);
