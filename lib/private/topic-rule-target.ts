import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';

/**
 * An SNS topic as the target of one EventBridge rule, with a topic policy that lets EventBridge publish for that rule
 * only (`aws:SourceArn` = the rule's ARN), where aws-events-targets' SnsTopic grants events.amazonaws.com publishing
 * for every rule of every account ("Amazon SNS permissions", EventBridge user guide, recommends the SourceArn condition).
 */
export class TopicRuleTarget implements events.IRuleTarget {
  constructor(private readonly topic: sns.ITopic, private readonly input: events.RuleTargetInput) {}

  public bind(rule: events.IRule, _id?: string): events.RuleTargetConfig {
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
    }));
    return { arn: this.topic.topicArn, input: this.input, targetResource: this.topic };
  }
}
