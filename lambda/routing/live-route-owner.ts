import { createHash } from 'node:crypto';
import { AddTagsCommand, DescribeTagsCommand, RemoveTagsCommand, Rule, Tag } from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCall } from '../shared/errors';
import { invalid } from '../shared/validate';
import { elbv2, isRuleNotFound, listRules } from './elbv2';

/**
 * Who owns the live rule. More than one Custom::ZdtLiveRoute resource can point at the same rule at the same time:
 * CloudFormation replaces a resource whose logical id changed (a construct renamed or moved, routing moved into
 * another stack) by creating the new one first, which adopts the rule at its listener and priority, and deleting the
 * old one in the cleanup phase after the whole update succeeded; if the update fails instead, the rollback deletes
 * the NEW one and keeps the old
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html).
 * A Delete must therefore never remove a rule another resource still points at.
 *
 * Each resource instance holding the rule tags it with a claim: the key names the instance (a hash of its stack id
 * and logical id, which together are unique and stable for the life of the resource), the value says who it is in
 * words. Create and Update add their claim; Delete removes it and deletes the rule only when no claim is left. Rule
 * tags: AddTags / RemoveTags / DescribeTags and CreateRule's Tags
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_AddTags.html).
 */

/** Prefix of every claim tag key. */
export const CLAIM_PREFIX = 'zdt:live-route:';
/**
 * The claim put on a rule found without any claim (made by a version of the library before claims): it stands for
 * the unknown resource that made it, which is released by the first Delete that holds no claim of its own.
 */
export const LEGACY_CLAIM = `${CLAIM_PREFIX}legacy`;
/** ELB tag limits: keys up to 128 characters, values up to 256 (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Tag.html). */
const MAX_TAG_VALUE_LENGTH = 256;
/** Hex characters of the instance hash in a claim key: 64 bits, no collision among the resources of one listener. */
const OWNER_HASH_LENGTH = 16;
/** Most rule ARNs DescribeTags takes in one call (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html). */
const TAGS_PER_CALL = 20;

/** One resource instance: the CloudFormation stack and logical id of a Custom::ZdtLiveRoute. */
export interface LiveRouteOwner {
  readonly stackId: string;
  readonly logicalResourceId: string;
}

/** The owner of a CloudFormation event, which always carries StackId and LogicalResourceId. */
export function ownerOf(event: { readonly StackId?: unknown; readonly LogicalResourceId?: unknown }, source: string): LiveRouteOwner {
  if (typeof event.StackId !== 'string' || event.StackId === '') throw invalid(source, 'StackId', 'the ARN of the stack (CloudFormation sends it with every request)', event.StackId);
  if (typeof event.LogicalResourceId !== 'string' || event.LogicalResourceId === '') {
    throw invalid(source, 'LogicalResourceId', 'the logical id of the resource (CloudFormation sends it with every request)', event.LogicalResourceId);
  }
  return { stackId: event.StackId, logicalResourceId: event.LogicalResourceId };
}

/** The tag that says `owner` holds a rule. */
export function claimTag(owner: LiveRouteOwner): Tag {
  const hash = createHash('sha256').update(`${owner.stackId}\n${owner.logicalResourceId}`).digest('hex').slice(0, OWNER_HASH_LENGTH);
  return { Key: `${CLAIM_PREFIX}${hash}`, Value: `${owner.logicalResourceId} in ${owner.stackId}`.slice(0, MAX_TAG_VALUE_LENGTH) };
}

/** The claim tags of a rule (none when the rule is gone). */
export async function claimsOf(ruleArn: string): Promise<Tag[]> {
  try {
    const out = await awsCall(`DescribeTags(${ruleArn})`, () => elbv2().send(new DescribeTagsCommand({ ResourceArns: [ruleArn] })));
    return (out.TagDescriptions?.[0]?.Tags ?? []).filter((t) => t.Key?.startsWith(CLAIM_PREFIX));
  } catch (err) {
    if (isRuleNotFound(err)) return [];
    throw err;
  }
}

/**
 * Adds the owner's claim to the rule. When `adopting` a rule that has no claim at all (made before claims, by a
 * resource that may still exist), a legacy claim stands for that resource (see LEGACY_CLAIM). A rule a resource
 * updates is its own (its physical id): it gets the owner's claim only, or its Delete would leave the rule behind.
 */
export async function claim(ruleArn: string, owner: LiveRouteOwner, options: { readonly adopting: boolean }): Promise<void> {
  const mine = claimTag(owner);
  const claims = await claimsOf(ruleArn);
  if (claims.some((t) => t.Key === mine.Key)) return;
  const tags = claims.length === 0 && options.adopting ? [mine, { Key: LEGACY_CLAIM, Value: 'the resource that created this rule before ownership claims' }] : [mine];
  await awsCall(`AddTags(${ruleArn})`, () => elbv2().send(new AddTagsCommand({ ResourceArns: [ruleArn], Tags: tags })));
}

/**
 * Removes the owner's claim (or, holding none, the legacy claim) and returns the claims left: the rule is the
 * owner's to delete only when none is left. A rule with no claim at all (made before claims) is its Delete's.
 */
export async function release(ruleArn: string, owner: LiveRouteOwner): Promise<Tag[]> {
  const claims = await claimsOf(ruleArn);
  const mine = claimTag(owner).Key;
  const released = claims.some((t) => t.Key === mine) ? mine : claims.find((t) => t.Key === LEGACY_CLAIM)?.Key;
  if (released === undefined) return claims;
  await awsCall(`RemoveTags(${ruleArn})`, () => elbv2().send(new RemoveTagsCommand({ ResourceArns: [ruleArn], TagKeys: [released] })));
  return claims.filter((t) => t.Key !== released);
}

/** The rule of `listenerArn` that carries the owner's claim, if any (a rule recreated after one was lost). */
export async function claimedRule(listenerArn: string, owner: LiveRouteOwner): Promise<Rule | undefined> {
  const rules = (await listRules(listenerArn)).filter((r) => !r.IsDefault && r.RuleArn);
  const mine = claimTag(owner).Key;
  for (let i = 0; i < rules.length; i += TAGS_PER_CALL) {
    const batch = rules.slice(i, i + TAGS_PER_CALL);
    const out = await awsCall(`DescribeTags(rules of ${listenerArn})`, () => elbv2().send(new DescribeTagsCommand({
      ResourceArns: batch.map((r) => r.RuleArn!),
    })));
    const owned = out.TagDescriptions?.find((d) => d.Tags?.some((t) => t.Key === mine));
    if (owned) return batch.find((r) => r.RuleArn === owned.ResourceArn);
  }
  return undefined;
}
