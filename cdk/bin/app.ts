#!/usr/bin/env node
// The CDK app: `npx cdk deploy -c stage=dev` (or prod). Settings come from
// the context: `-c key=value` first, then cdk.json's `whatif.<stage>` block.
//
//   stage            dev | prod (default dev)
//   mailFrom         the SES-verified sender (required)
//   extraOrigins     CORS origins besides the site, comma-separated (e.g. http://localhost:3001)
//   modelProviders   the provider chain (default anthropic,openai,offline)
//   ffmpegLayerArn   an arm64 ffmpeg layer for the media workers (optional)
//   alarmEmail       where alarm notifications go (optional)
//   oidcGoogleClientIds  sign in with Google: its OAuth client ids, comma-separated (optional)
//   oidcProviders    other OpenID Connect providers, `name|issuer|jwks_url|client_id[,...]` entries separated by `;` (optional)
//   domainNames      the site's custom domains, comma-separated (optional; with certificateArn, in us-east-1)
//   region, account  where to deploy (default: the CLI's profile; region us-east-1)
//   lambdaDir        where the zips are (default ../target/lambda, from scripts/build-lambdas)
//   placeholderCode  true: synth without built zips (the functions would not run)
//
// The CLOUDFRONT-scope WAF web ACL must be in us-east-1: in that Region it is
// part of the stack; elsewhere it gets its own stack (WhatIf-<stage>-waf) in
// us-east-1, referenced across Regions (which needs an explicit account).

import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { loadRoutes, loadWorkers } from '../lib/routes';
import { Stage, WhatIfStack, WhatIfWafStack } from '../lib/whatif-stack';

const app = new cdk.App();
const stage = String(app.node.tryGetContext('stage') ?? 'dev') as Stage;
if (stage !== 'dev' && stage !== 'prod') throw new Error(`stage must be dev or prod, not ${stage}`);
const fromFile: Record<string, unknown> = app.node.tryGetContext('whatif')?.[stage] ?? {};
const setting = (key: string): string | undefined => {
  const value = app.node.tryGetContext(key) ?? fromFile[key];
  if (value === undefined || value === null || value === '') return undefined;
  return Array.isArray(value) ? value.join(',') : String(value);
};
const list = (key: string) =>
  setting(key)
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const mailFrom = setting('mailFrom');
if (!mailFrom) throw new Error(`set mailFrom (-c mailFrom=... or whatif.${stage}.mailFrom in cdk.json)`);
const region = setting('region') ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1';
const account = setting('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
const crossRegion = region !== 'us-east-1';

const waf = crossRegion
  ? new WhatIfWafStack(app, `WhatIf-${stage}-waf`, {
      env: { account, region: 'us-east-1' },
      crossRegionReferences: true,
      stage,
    })
  : undefined;

new WhatIfStack(app, `WhatIf-${stage}`, {
  env: { account, region },
  crossRegionReferences: crossRegion,
  description: `What If Generator (${stage})`,
  stage,
  routes: loadRoutes(),
  workers: loadWorkers(),
  lambdaDir: setting('lambdaDir') ?? path.join(__dirname, '..', '..', '..', 'target', 'lambda'),
  allowMissingCode: setting('placeholderCode') === 'true',
  mailFrom,
  extraOrigins: list('extraOrigins'),
  modelProviders: setting('modelProviders'),
  ffmpegLayerArn: setting('ffmpegLayerArn'),
  alarmEmail: setting('alarmEmail'),
  oidcGoogleClientIds: setting('oidcGoogleClientIds'),
  oidcProviders: setting('oidcProviders'),
  domainNames: list('domainNames'),
  certificateArn: setting('certificateArn'),
  webAclArn: waf?.webAcl.attrArn,
});
