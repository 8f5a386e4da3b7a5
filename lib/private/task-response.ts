import * as iam from 'aws-cdk-lib/aws-iam';

/** The Step Functions actions that answer a task token (a manual pause, an approval, a gate). */
export const TASK_RESPONSE_ACTIONS = ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'];

/**
 * Lets `grantee` answer task tokens with `actions`. These actions have no resource-level permissions (Service
 * Authorization Reference, "Actions defined by AWS Step Functions": no resource type, so the Resource must be "*"):
 * a grant on a state machine ARN, as StateMachine.grantTaskResponse makes, never matches and every answer is
 * denied. The token itself, known only to whom the state machine gave it, names the one task it answers.
 */
export function grantTaskTokenResponse(grantee: iam.IGrantable, actions: string[] = TASK_RESPONSE_ACTIONS): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: ['*'] });
}
