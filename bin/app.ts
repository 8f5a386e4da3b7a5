#!/usr/bin/env node
/**
 * `cdk synth` entry point: the EverJust.dev example app (router, blue, green and data stacks), checked by cdk-nag
 * (AwsSolutions).
 * Release flow: `cdk deploy EverJust/Router EverJust/Blue` once; then for each release deploy the idle color
 * (`cdk deploy EverJust/Green -c greenImage=<image>`) and start the rollout (`zdt release`).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createEverJust } from './everjust';
import { addEverJustData } from './everjust-data';

const app = new App();
const pair = createEverJust(app);
// The database (encrypted RDS PostgreSQL) and its expand/contract migration, released by the rollout's completion.
addEverJustData(app, pair);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
