#!/usr/bin/env node
/**
 * `cdk synth` entry point: the EverJust.dev example app, checked by cdk-nag (AwsSolutions).
 * Release flow: `cdk deploy EverJust-router EverJust-blue` once; then for each release deploy the idle color
 * (`cdk deploy EverJust-green -c greenImage=<image>`) and start the rollout (`zdt release`).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createEverJust } from './everjust';

const app = new App();
createEverJust(app);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
