/**
 * The layers of DESIGN.md, checked in `npm test` (test/package/layers.test.ts runs `depcruise`):
 * - lib/ (synth time) and lambda/ (runtime) meet only through contract modules: lambda/shared/contracts.ts and
 *   lambda/**\/*-contract.ts (what a contract re-exports may reach further into lambda/, but never the AWS SDK or
 *   pg: test/package/packages.test.ts checks every require and declaration import of the packed constructs);
 * - lambda/ never imports aws-cdk-lib or constructs (a handler bundle must not carry the CDK);
 * - the rehearsal never imports bin/ (the CLI, `zdt rehearse` included: bin/commands/rehearse.ts);
 * - no cycles.
 */
const CONTRACT = '^lambda/(shared/contracts|.+-contract)[.]ts$';
module.exports = {
  forbidden: [
    {
      name: 'lib-to-lambda-only-through-contracts',
      comment: 'lib/ imports lambda/ only through lambda/shared/contracts.ts or lambda/**/*-contract.ts',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lambda/', pathNot: CONTRACT },
    },
    {
      name: 'lambda-never-imports-cdk',
      comment: 'runtime code never imports aws-cdk-lib or constructs',
      severity: 'error',
      from: { path: '^lambda/' },
      to: { path: 'node_modules/(aws-cdk-lib|constructs)/' },
    },
    {
      name: 'lambda-never-imports-lib-bin-rehearsal',
      severity: 'error',
      from: { path: '^lambda/' },
      to: { path: '^(lib|bin|rehearsal)/' },
    },
    {
      name: 'rehearsal-never-imports-bin',
      comment: 'the rehearsal is a library; the CLI (bin/, `zdt rehearse` in bin/commands/rehearse.ts) uses it, not the other way round',
      severity: 'error',
      from: { path: '^rehearsal/' },
      to: { path: '^bin/' },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|dist|\\.build|\\.pack|packages/[^/]+/dist|assets|cdk[.]out)/' },
  },
};
