import { CfnResource, CfnTemplate, placeholderValue, resolveStateMachine, TemplateResolver, TemplateStateMachine } from '../../rehearsal/template';
import { SynthesizedStack } from './matrix';

/**
 * An app's stacks as CloudFormation deploys them: every intrinsic resolved (rehearsal/template.ts, placeholders of
 * the right shape per resource type), Fn::ImportValue resolved through the exporting stack's Outputs.
 */
export interface ResolvedStack {
  readonly name: string;
  readonly template: CfnTemplate;
  readonly resolver: TemplateResolver;
}

/** Resolvers for every stack, exports first (a stack's imports need the exporting stacks' resolved outputs). */
export function resolveApp(stacks: readonly SynthesizedStack[]): ResolvedStack[] {
  const imports: Record<string, string> = {};
  const pending = [...stacks];
  const done: ResolvedStack[] = [];
  // Exports of stacks without imports resolve first; repeat until every stack resolves (stacks form a DAG).
  for (let round = 0; pending.length > 0; round++) {
    if (round > stacks.length) throw new Error(`cannot resolve the imports of ${pending.map((s) => s.name).join(', ')}`);
    for (const stack of [...pending]) {
      // Physical ids unique per stack (two stacks of the matrix hold resources of the same logical id), so an ARN
      // names one resource of the app, also when another stack imports it.
      const unique = (logicalId: string, attribute: string | undefined, resource: CfnResource) =>
        placeholderValue(resource.Type, `${stack.name.replace(/[^A-Za-z0-9]/g, '')}${logicalId}`, attribute);
      const resolver = new TemplateResolver(stack.template, { stackName: stack.name, imports, resolver: unique });
      const outputs = (stack.template.Outputs ?? {}) as Record<string, { Value: unknown; Export?: { Name: unknown } }>;
      try {
        for (const output of Object.values(outputs)) {
          if (output.Export) imports[resolver.resolveString(output.Export.Name, 'Export.Name')] = resolver.resolveString(output.Value, 'Output');
        }
      } catch (err) {
        if (/ImportValue/.test((err as Error).message)) continue;
        throw err;
      }
      done.push({ name: stack.name, template: stack.template, resolver });
      pending.splice(pending.indexOf(stack), 1);
    }
  }
  return done;
}

/** Every state machine of the resolved stacks, its definition as ASL. */
export function stateMachinesOfApp(stacks: readonly ResolvedStack[]): Array<TemplateStateMachine & { readonly stack: string }> {
  return stacks.flatMap((s) => s.resolver.resourcesOfType('AWS::StepFunctions::StateMachine')
    .map(({ logicalId }) => ({ ...resolveStateMachine(s.resolver, logicalId), stack: s.name })));
}

/** The logical id of the AWS::IAM::Role of the stack whose ARN is `roleArn`. */
export function roleOf(stack: ResolvedStack, roleArn: string): string {
  const found = stack.resolver.resourcesOfType('AWS::IAM::Role').find(({ logicalId }) => stack.resolver.getAtt(logicalId, 'Arn') === roleArn);
  if (!found) throw new Error(`${stack.name}: no AWS::IAM::Role has the ARN ${roleArn}`);
  return found.logicalId;
}

/** The identity policies of a role, resolved: the AWS::IAM::Policy resources attached to it and its inline policies. */
export function identityPolicies(stack: ResolvedStack, roleLogicalId: string): Array<{ name: string; policy: any }> {
  const r = stack.resolver;
  const roleName = r.ref(roleLogicalId);
  const attached = r.resourcesOfType('AWS::IAM::Policy')
    .map(({ logicalId }) => ({ logicalId, props: r.resourceProperties(logicalId) as any }))
    .filter((p) => (p.props.Roles ?? []).includes(roleName))
    .map((p) => ({ name: p.logicalId, policy: p.props.PolicyDocument }));
  const role = r.resourceProperties(roleLogicalId) as any;
  if ((role.ManagedPolicyArns ?? []).length > 0) throw new Error(`${stack.name}/${roleLogicalId}: managed policies are not simulated here`);
  return [...attached, ...(role.Policies ?? []).map((p: any) => ({ name: p.PolicyName, policy: p.PolicyDocument }))];
}
