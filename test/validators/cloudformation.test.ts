import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { PropertyType, Resource, ResourceProperties, SpecDatabase, TypeDefinition } from '@aws-cdk/service-spec-types';
import { synthesizedApps } from './matrix';
import { resolveApp } from './resolve';

/**
 * Every resource of the configuration matrix and the example app against the CloudFormation resource specification
 * that @aws-cdk/aws-service-spec ships (built from the CloudFormation registry schemas): the type exists, no unknown
 * property, every required one present, every value of its type (strings, numbers, booleans, arrays, maps, nested
 * property types, unions) and within its allowed values where the schema lists them. Values that are intrinsics
 * (Ref, Fn::*) are known only at deploy time and pass. Plus the cross-resource rule ELB enforces on deploy: one
 * listener rule per priority per listener, across every stack, counting the production rule the live-route custom
 * resource creates and the segment rule the router creates at run time.
 */

const { matrix, example } = synthesizedApps();
const apps = { matrix, example };

function isIntrinsic(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::') || keys[0] === 'Condition');
}

class SpecChecker {
  constructor(private readonly db: SpecDatabase) {}

  resource(type: string): Resource | undefined {
    const found = this.db.lookup('resource', 'cloudFormationType', 'equals', type);
    return found.length === 1 ? found[0] : undefined;
  }

  properties(where: string, value: unknown, spec: ResourceProperties, problems: string[]): void {
    if (isIntrinsic(value)) return;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${where}: expected an object, got ${JSON.stringify(value)}`);
      return;
    }
    const given = value as Record<string, unknown>;
    for (const [name, prop] of Object.entries(spec)) {
      if (prop.required && given[name] === undefined) problems.push(`${where}.${name}: required, missing`);
    }
    for (const [name, v] of Object.entries(given)) {
      const prop = spec[name];
      if (!prop) problems.push(`${where}.${name}: not a property of this type (known: ${Object.keys(spec).join(', ')})`);
      else this.value(`${where}.${name}`, v, prop.type, problems);
    }
  }

  value(where: string, value: unknown, type: PropertyType, problems: string[]): void {
    if (isIntrinsic(value)) return;
    const bad = (expected: string) => problems.push(`${where}: expected ${expected}, got ${JSON.stringify(value)?.slice(0, 120)}`);
    switch (type.type) {
      case 'string':
      case 'date-time':
        if (typeof value !== 'string' && typeof value !== 'number') bad('a string');
        else if ('allowedValues' in type && type.allowedValues && !type.allowedValues.includes(String(value))) bad(`one of ${type.allowedValues.join(', ')}`);
        return;
      case 'number':
      case 'integer': {
        // CloudFormation accepts numbers given as strings.
        const n = typeof value === 'string' ? Number(value) : value;
        if (typeof n !== 'number' || !Number.isFinite(n) || (type.type === 'integer' && !Number.isInteger(n))) bad(`a${type.type === 'integer' ? 'n integer' : ' number'}`);
        else if ('allowedValues' in type && type.allowedValues && !type.allowedValues.includes(n)) bad(`one of ${type.allowedValues.join(', ')}`);
        return;
      }
      case 'boolean':
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') bad('a boolean');
        return;
      case 'json':
        if (typeof value !== 'object' && typeof value !== 'string') bad('JSON');
        return;
      case 'null':
        return;
      case 'tag':
        if (value === null || typeof value !== 'object' || !('Key' in (value as object))) bad('a tag {Key, Value}');
        return;
      case 'array':
        if (!Array.isArray(value)) bad('an array');
        else value.forEach((item, i) => this.value(`${where}[${i}]`, item, type.element, problems));
        return;
      case 'map':
        if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('a map');
        else for (const [k, v] of Object.entries(value)) this.value(`${where}.${k}`, v, type.element, problems);
        return;
      case 'ref': {
        const def = this.db.get('typeDefinition', type.reference.$ref) as TypeDefinition;
        this.properties(where, value, def.properties, problems);
        return;
      }
      case 'union': {
        const attempts = type.types.map((t) => {
          const p: string[] = [];
          this.value(where, value, t, p);
          return p;
        });
        if (!attempts.some((p) => p.length === 0)) problems.push(...attempts.reduce((a, b) => (a.length <= b.length ? a : b)));
        return;
      }
      default:
        problems.push(`${where}: unknown spec type ${JSON.stringify(type)}`);
    }
  }
}

describe('CloudFormation: resources against the registry schemas (@aws-cdk/aws-service-spec), and listener priorities', () => {
  let checker: SpecChecker;
  beforeAll(async () => {
    checker = new SpecChecker(await loadAwsServiceSpec());
  });

  test.each(Object.keys(apps))('every resource of the %s app has known, required and well-typed properties', (app) => {
    const problems: string[] = [];
    let checked = 0;
    for (const stack of apps[app as keyof typeof apps]) {
      for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
        if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CDK::Metadata') continue;
        const spec = checker.resource(resource.Type);
        if (!spec) {
          problems.push(`${stack.name}/${logicalId}: ${resource.Type} is not a CloudFormation resource type`);
          continue;
        }
        checker.properties(`${stack.name}/${logicalId} (${resource.Type})`, resource.Properties ?? {}, spec.properties, problems);
        checked++;
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  test('the checker finds a wrong type, an unknown property, a missing required one and a value outside the enum (a control)', () => {
    const problems: string[] = [];
    checker.properties('Rule', { Priority: 'high', Actions: [], Colour: 'red' }, checker.resource('AWS::ElasticLoadBalancingV2::ListenerRule')!.properties, problems);
    checker.properties('Sm', { StateMachineType: 'SLOW', RoleArn: 'arn' }, checker.resource('AWS::StepFunctions::StateMachine')!.properties, problems);
    expect(problems.join('\n')).toMatch(/Rule\.Priority: expected an integer/);
    expect(problems.join('\n')).toMatch(/Rule\.Conditions: required, missing|Rule\.ListenerArn: required, missing|Rule\.Colour: not a property/);
    expect(problems.join('\n')).toMatch(/Rule\.Colour: not a property of this type/);
    expect(problems.join('\n')).toMatch(/Sm\.StateMachineType: expected one of STANDARD, EXPRESS/);
  });

  test.each(Object.keys(apps))('listener rule priorities of the %s app are unique per listener, counting the live and segment rules', (app) => {
    const taken = new Map<string, string>();
    const clashes: string[] = [];
    const take = (listener: string, priority: number, what: string) => {
      const key = `${listener} #${priority}`;
      const before = taken.get(key);
      if (before) clashes.push(`priority ${priority} of ${listener}: ${before} and ${what}`);
      else taken.set(key, what);
    };
    for (const stack of resolveApp(apps[app as keyof typeof apps])) {
      const r = stack.resolver;
      for (const { logicalId } of r.resourcesOfType('AWS::ElasticLoadBalancingV2::ListenerRule')) {
        const p = r.resourceProperties(logicalId) as any;
        take(p.ListenerArn, Number(p.Priority), `${stack.name}/${logicalId}`);
      }
      for (const { logicalId } of r.resourcesOfType('Custom::ZdtLiveRoute')) {
        const p = r.resourceProperties(logicalId) as any;
        take(p.ListenerArn, Number(p.Priority), `${stack.name}/${logicalId} (live route)`);
      }
      for (const { logicalId, resource } of r.resourcesOfType('AWS::Lambda::Function')) {
        if (resource.Metadata?.['cdk-zero-downtime:handler'] !== 'router') continue;
        const config = JSON.parse((r.resourceProperties(logicalId) as any).Environment.Variables.ZDT_CONFIG);
        take(config.listenerArn, config.segmentRulePriority, `${stack.name}/${logicalId} (segment rule, created at run time)`);
      }
    }
    expect(clashes).toEqual([]);
    expect(taken.size).toBeGreaterThan(3);
  });
});
