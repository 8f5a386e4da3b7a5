import { DescribeRulesCommand, Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { elbv2 } from '../shared/clients';
import { AlbLimits } from '../shared/contracts';
import { awsCall } from '../shared/errors';

export { elbv2 };

/** ALB's highest listener rule priority. */
export const MAX_RULE_PRIORITY = AlbLimits.MAX_RULE_PRIORITY;

/** Rules per DescribeRules page (the API maximum). */
const RULES_PAGE_SIZE = 400;


/** True for the ARN of an ALB listener rule (arn:<partition>:elasticloadbalancing:<region>:<account>:listener-rule/...). */
export function isRuleArn(value: string | undefined): value is string {
  return value !== undefined && /^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:listener-rule\//.test(value);
}

export function isRuleNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'RuleNotFoundException';
}

/** One rule by ARN, or undefined when it does not exist. */
export async function describeRule(ruleArn: string): Promise<Rule | undefined> {
  try {
    const out = await awsCall(`DescribeRules(${ruleArn})`, () => elbv2().send(new DescribeRulesCommand({ RuleArns: [ruleArn] })));
    return out.Rules?.find((r) => r.RuleArn === ruleArn);
  } catch (err) {
    if (isRuleNotFound(err)) return undefined;
    throw err;
  }
}

/** Every rule of a listener (all pages). */
export async function listRules(listenerArn: string): Promise<Rule[]> {
  const rules: Rule[] = [];
  let marker: string | undefined;
  do {
    const out = await awsCall(`DescribeRules(${listenerArn})`, () => elbv2().send(new DescribeRulesCommand({
      ListenerArn: listenerArn, PageSize: RULES_PAGE_SIZE, Marker: marker,
    })));
    rules.push(...(out.Rules ?? []));
    marker = out.NextMarker;
  } while (marker);
  return rules;
}

/** The rule of a listener at a priority, if any. */
export async function ruleAtPriority(listenerArn: string, priority: number): Promise<Rule | undefined> {
  return (await listRules(listenerArn)).find((r) => r.Priority === String(priority));
}
