// Assertions on the synthesized stacks (no AWS credentials, no network).
// Run: npm test (compiles with tsc, then `node --test`).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { RouteRow, WorkerRow, apiPathPatterns, loadRoutes, loadWorkers } from '../lib/routes';
import { Stage, WhatIfStack, WhatIfWafStack } from '../lib/whatif-stack';

const routes = loadRoutes();
const workers = loadWorkers();
const NO_ZIPS = path.join(__dirname, 'no-such-lambda-dir');
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

interface Synth {
  stack: WhatIfStack;
  template: Template;
}

function synth(opts: { stage?: Stage; region?: string; workers?: WorkerRow[]; webAclArn?: string } = {}): Synth {
  const app = new cdk.App();
  const stack = new WhatIfStack(app, 'Test', {
    env: { account: '123456789012', region: opts.region ?? 'us-east-1' },
    stage: opts.stage ?? 'dev',
    routes,
    workers: opts.workers ?? workers,
    lambdaDir: NO_ZIPS,
    allowMissingCode: true,
    mailFrom: 'noreply@whatif.example',
    extraOrigins: ['http://localhost:3001'],
    webAclArn: opts.webAclArn,
  });
  return { stack, template: Template.fromStack(stack) };
}

const dev = synth();

/** Our functions (not CDK's own helpers): the ones with the Rust runtime. */
function functions(template: Template): Record<string, any> {
  return template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'provided.al2023' } });
}

/** The statements of the inline policy of the role of function `name`. */
function statementsOf(s: Synth, name: string): any[] {
  const fn = s.stack.functions.get(name);
  assert.ok(fn, `no function ${name}`);
  // Roles and their policies live in a nested stack (the 500-resource limit).
  const roleStack = cdk.Stack.of(fn.role!);
  const roleId = roleStack.getLogicalId(fn.role!.node.defaultChild as cdk.CfnElement);
  const policies = Template.fromStack(roleStack).findResources('AWS::IAM::Policy');
  const mine = Object.values(policies).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
  assert.equal(mine.length, 1, `${name}: one inline policy`);
  return mine[0].Properties.PolicyDocument.Statement;
}

const actionsOf = (st: any): string[] => (Array.isArray(st.Action) ? st.Action : [st.Action]);

test('routes.json is the route table, with health and openapi', () => {
  assert.ok(routes.length >= 2);
  const names = routes.map((r: RouteRow) => r.function);
  assert.ok(names.includes('health') && names.includes('openapi'));
  assert.equal(new Set(names).size, names.length, 'function names are unique');
});

test('one function per route and worker, each arm64 on provided.al2023 with its memory and timeout', () => {
  const fns = functions(dev.template);
  assert.equal(Object.keys(fns).length, routes.length + workers.length);
  const names = new Set([...routes.map((r: RouteRow) => r.function), ...workers.map((w: any) => w.function)]);
  const assets = new Set<string>();
  for (const fn of Object.values(fns)) {
    assert.deepEqual(fn.Properties.Architectures, ['arm64']);
    // The one binary serves the row its handler names.
    assert.ok(names.has(fn.Properties.Handler), `${fn.Properties.Handler} is a function of the table`);
    assets.add(JSON.stringify(fn.Properties.Code));
    assert.deepEqual(fn.Properties.TracingConfig, { Mode: 'Active' });
    assert.equal(fn.Properties.LoggingConfig.LogFormat, 'JSON');
  }
  assert.equal(assets.size, 1, 'every function deploys the same artifact');
  for (const route of routes) {
    dev.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `whatif-dev-${route.function}`,
      MemorySize: route.memoryMb,
      Timeout: route.timeoutSeconds,
    });
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `${route.method} ${route.path}` });
  }
  dev.template.resourceCountIs('AWS::ApiGatewayV2::Route', routes.length);
});

test('every function gets the same environment variables as in the SAM template', () => {
  // template.yaml is plain block YAML (local/src/template.rs): the Globals' variables are its WHATIF_ keys.
  const sam = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'template.yaml'), 'utf8');
  const expected = [...new Set([...sam.matchAll(/^\s+(WHATIF_[A-Z0-9_]+):/gm)].map((m) => m[1]))].sort();
  assert.ok(expected.includes('WHATIF_TABLE_NAME') && expected.includes('WHATIF_LOG_FORMAT'), expected.join(','));
  for (const [id, fn] of Object.entries(functions(dev.template))) {
    assert.deepEqual(Object.keys(fn.Properties.Environment.Variables).sort(), expected, id);
  }
});

test('openapi may write only rate-limit and idempotency items', () => {
  const statements = statementsOf(dev, 'openapi');
  const dynamo = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
  const reads = ['dynamodb:GetItem', 'dynamodb:BatchGetItem'];
  const writes = dynamo.filter((st) => actionsOf(st).some((a) => !reads.includes(a)));
  assert.equal(writes.length, 1, JSON.stringify(dynamo));
  assert.deepEqual(writes[0].Condition, {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RL#*', 'IDEM#*'] },
  });
  const all = statements.flatMap(actionsOf);
  for (const forbidden of ['dynamodb:Query', 'dynamodb:DescribeTable', 's3:GetObject', 'sqs:SendMessage', 'secretsmanager:GetSecretValue']) {
    assert.ok(!all.includes(forbidden), `openapi must not have ${forbidden}`);
  }
});

test('health has its checks: DescribeTable, ListBucket (HeadBucket), GetQueueAttributes', () => {
  const all = statementsOf(dev, 'health').flatMap(actionsOf);
  for (const action of ['dynamodb:DescribeTable', 's3:ListBucket', 'sqs:GetQueueAttributes', 'dynamodb:GetItem']) {
    assert.ok(all.includes(action), `health needs ${action}`);
  }
  assert.ok(!all.includes('dynamodb:Query'));
});

test('users-avatar-upload-url may only put and delete objects under avatars/', () => {
  const statements = statementsOf(dev, 'users-avatar-upload-url');
  const s3 = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')));
  assert.equal(s3.length, 1, JSON.stringify(s3));
  assert.deepEqual(actionsOf(s3[0]).sort(), ['s3:DeleteObject', 's3:PutObject']);
  assert.match(JSON.stringify(s3[0].Resource), /\/avatars\/\*"/);
  const all = statements.flatMap(actionsOf);
  for (const forbidden of ['s3:GetObject', 's3:ListBucket', 'dynamodb:Query', 'ses:SendEmail', 'sqs:SendMessage']) {
    assert.ok(!all.includes(forbidden), `users-avatar-upload-url must not have ${forbidden}`);
  }
});

test('auth-register reads the signing keys and sends email only from the configured sender', () => {
  const statements = statementsOf(dev, 'auth-register');
  const mail = statements.find((st) => actionsOf(st).includes('ses:SendEmail'));
  assert.ok(mail, 'auth-register sends email');
  assert.deepEqual(mail.Condition, { StringEquals: { 'ses:FromAddress': 'noreply@whatif.example' } });
  const secrets = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:')));
  assert.equal(secrets.length, 1);
  assert.deepEqual(actionsOf(secrets[0]), ['secretsmanager:GetSecretValue']);
  assert.match(JSON.stringify(secrets[0].Resource), /secret:whatif\/dev\/signing-keys-\?{6}/);
  assert.ok(!statements.flatMap(actionsOf).includes('secretsmanager:PutSecretValue'));
});

test('jobs-worker consumes the queue and lists only the prefixes it reads', () => {
  const worker = workers.find((w) => w.function === 'jobs-worker');
  assert.ok(worker, 'workers.json has jobs-worker');
  const statements = statementsOf(dev, 'jobs-worker');
  const all = statements.flatMap(actionsOf);
  for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 's3:GetObject', 's3:PutObject']) {
    assert.ok(all.includes(action), `jobs-worker needs ${action}`);
  }
  const list = statements.find((st) => actionsOf(st).includes('s3:ListBucket'));
  // media, avatars, avatar uploads not accepted yet (the account's deletion), exports
  assert.deepEqual(list.Condition, { StringLike: { 's3:prefix': ['media/*', 'avatars/*', 'tmp/avatars/*', 'exports/*'] } });
  assert.ok(!all.includes('sqs:SendMessage'));
  // Its one secret is the model keys (the generation job), never the signing keys.
  const secrets = statements.filter((st) => actionsOf(st).includes('secretsmanager:GetSecretValue'));
  assert.deepEqual(secrets.map((st) => JSON.stringify(st.Resource).includes('model-keys')), [true]);
  assert.ok(!JSON.stringify(secrets).includes('signing-keys'));
  dev.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    BatchSize: 5,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
  });
});

test('only functions that ask for it can read the signing keys', () => {
  for (const row of [...routes, ...workers]) {
    const asks = row.access.some((a) => a.kind === 'secretRead' && a.scope === 'signing-keys');
    const reads = statementsOf(dev, row.function).some(
      (st) => actionsOf(st).includes('secretsmanager:GetSecretValue') && JSON.stringify(st.Resource).includes('signing-keys'),
    );
    assert.equal(reads, asks, row.function);
  }
});

test('the table: pk/sk, gsi1 and gsi2 (ALL), on-demand, TTL, point-in-time recovery, encrypted', () => {
  dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    SSESpecification: { SSEEnabled: true },
    GlobalSecondaryIndexes: [
      Match.objectLike({
        IndexName: 'gsi1',
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      }),
      Match.objectLike({ IndexName: 'gsi2', Projection: { ProjectionType: 'ALL' } }),
    ],
  });
  dev.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  synth({ stage: 'prod' }).template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
});

test('both buckets block public access and refuse plain HTTP; the media bucket expires exports/ and tmp/', () => {
  const buckets = dev.template.findResources('AWS::S3::Bucket');
  assert.equal(Object.keys(buckets).length, 2);
  for (const bucket of Object.values(buckets)) {
    assert.deepEqual(bucket.Properties.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  }
  const policies = Object.values(dev.template.findResources('AWS::S3::BucketPolicy'));
  assert.equal(policies.length, 2);
  for (const policy of policies) {
    assert.ok(
      policy.Properties.PolicyDocument.Statement.some(
        (st: any) => st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      ),
    );
  }
  dev.template.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: {
      Rules: Match.arrayWith([
        Match.objectLike({ Prefix: 'exports/', Status: 'Enabled' }),
        Match.objectLike({ Prefix: 'tmp/', ExpirationInDays: 1 }),
        Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
      ]),
    },
    CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedMethods: ['GET', 'HEAD', 'PUT'] })] },
  });
});

test('the job queue redrives to the DLQ after 5 receives; both encrypted; the signing-key secret', () => {
  dev.template.hasResourceProperties('AWS::SQS::Queue', {
    RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    SqsManagedSseEnabled: true,
  });
  dev.template.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 2);
  // Created empty (no value at all), for `whatif-local keys rotate --aws` to fill.
  dev.template.hasResourceProperties('AWS::SecretsManager::Secret', {
    Name: 'whatif/dev/signing-keys',
    SecretString: Match.absent(),
    GenerateSecretString: Match.absent(),
  });
});

test('CloudFront: API paths uncached with every viewer header but Host; the site from the private bucket via OAC', () => {
  const distribution = Object.values(dev.template.findResources('AWS::CloudFront::Distribution'))[0];
  const config = distribution.Properties.DistributionConfig;
  const behaviours = new Map<string, any>(config.CacheBehaviors.map((b: any) => [b.PathPattern, b]));
  for (const pattern of ['/api/*', '/shared/*', '/health']) {
    const b = behaviours.get(pattern);
    assert.ok(b, `no behaviour for ${pattern}`);
    assert.equal(b.CachePolicyId, CACHING_DISABLED);
    assert.equal(b.OriginRequestPolicyId, ALL_VIEWER_EXCEPT_HOST);
    assert.deepEqual(b.AllowedMethods, ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']);
    assert.equal(b.ViewerProtocolPolicy, 'redirect-to-https');
  }
  assert.deepEqual([...behaviours.keys()], apiPathPatterns(routes));
  const apiOriginIds = new Set([...behaviours.values()].map((b) => b.TargetOriginId));
  assert.equal(apiOriginIds.size, 1);
  assert.ok(!apiOriginIds.has(config.DefaultCacheBehavior.TargetOriginId));
  const siteOrigin = config.Origins.find((o: any) => o.Id === config.DefaultCacheBehavior.TargetOriginId);
  assert.ok(siteOrigin.S3OriginConfig && siteOrigin.OriginAccessControlId, 'site origin uses OAC');
  dev.template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
});

test('CloudFront caches share pages, cards and QR codes at most a minute, keyed by the QR options', () => {
  const distribution = Object.values(dev.template.findResources('AWS::CloudFront::Distribution'))[0];
  const config = distribution.Properties.DistributionConfig;
  const policies = dev.template.findResources('AWS::CloudFront::CachePolicy');
  for (const pattern of ['/qr/*', '/s/*']) {
    const b = config.CacheBehaviors.find((c: any) => c.PathPattern === pattern);
    assert.ok(b, `no behaviour for ${pattern}`);
    assert.deepEqual(b.AllowedMethods, ['GET', 'HEAD', 'OPTIONS']);
    const policy = policies[b.CachePolicyId.Ref].Properties.CachePolicyConfig;
    assert.equal(policy.MaxTTL, 60, 'never over a minute: a revoked share is gone from the edge within one');
    assert.equal(policy.DefaultTTL, 0, 'only what the API says is cacheable');
    const key = policy.ParametersInCacheKeyAndForwardedToOrigin;
    assert.deepEqual(key.QueryStringsConfig, { QueryStringBehavior: 'whitelist', QueryStrings: ['format', 'size'] });
    assert.equal(key.HeadersConfig.HeaderBehavior, 'none');
    assert.equal(key.CookiesConfig.CookieBehavior, 'none');
  }
  // The JSON share (with its password header) and the owner's routes stay uncached.
  assert.equal(config.CacheBehaviors.find((c: any) => c.PathPattern === '/shared/*').CachePolicyId, CACHING_DISABLED);
});

test('every route is reachable through CloudFront', () => {
  const patterns = apiPathPatterns(routes);
  for (const route of routes) {
    const ok = patterns.some((p) => (p.endsWith('*') ? route.path.startsWith(p.slice(0, -1)) : route.path === p));
    assert.ok(ok, `${route.path} has no CloudFront behaviour`);
  }
  assert.deepEqual(apiPathPatterns([{ ...routes[0], path: '/x/{id}/y' }]).slice(-1), ['/x/*']);
});

test('the WAF web ACL (CLOUDFRONT scope, managed rules and a rate limit) is associated with the distribution', () => {
  dev.template.hasResourceProperties('AWS::WAFv2::WebACL', {
    Scope: 'CLOUDFRONT',
    Rules: Match.arrayWith([
      Match.objectLike({ Statement: { ManagedRuleGroupStatement: Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet' }) } }),
      Match.objectLike({ Statement: { ManagedRuleGroupStatement: Match.objectLike({ Name: 'AWSManagedRulesKnownBadInputsRuleSet' }) } }),
      Match.objectLike({ Statement: { ManagedRuleGroupStatement: Match.objectLike({ Name: 'AWSManagedRulesAmazonIpReputationList' }) } }),
      Match.objectLike({ Action: { Block: {} }, Statement: { RateBasedStatement: Match.objectLike({ AggregateKeyType: 'IP' }) } }),
    ]),
  });
  const webAclId = dev.stack.getLogicalId(dev.stack.webAcl!);
  dev.template.hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({ WebACLId: { 'Fn::GetAtt': [webAclId, 'Arn'] } }),
  });
});

test('outside us-east-1 the web ACL lives in its own us-east-1 stack', () => {
  const app = new cdk.App();
  const env = { account: '123456789012' };
  const waf = new WhatIfWafStack(app, 'Waf', { env: { ...env, region: 'us-east-1' }, crossRegionReferences: true, stage: 'prod' });
  const main = new WhatIfStack(app, 'Main', {
    env: { ...env, region: 'eu-west-1' },
    crossRegionReferences: true,
    stage: 'prod',
    routes,
    workers,
    lambdaDir: NO_ZIPS,
    allowMissingCode: true,
    mailFrom: 'noreply@whatif.example',
    webAclArn: waf.webAcl.attrArn,
  });
  Template.fromStack(waf).resourceCountIs('AWS::WAFv2::WebACL', 1);
  const template = Template.fromStack(main);
  template.resourceCountIs('AWS::WAFv2::WebACL', 0);
  template.hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({ WebACLId: Match.anyValue() }),
  });
  // A web ACL made in the wrong Region is an error, not a failed deploy.
  const wrong = synth({ region: 'eu-west-1' });
  Annotations.fromStack(wrong.stack).hasError('*', Match.stringLikeRegexp('us-east-1'));
});

test('alarms: API 5xx rate, throttles, DLQ depth, and one per worker (queue or scheduled)', () => {
  const scheduled: WorkerRow = {
    function: 'cleanup-worker',
    trigger: { kind: 'schedule', expression: 'rate(1 hour)' },
    memoryMb: 256,
    timeoutSeconds: 60,
    ephemeralStorageMb: 512,
    access: [{ kind: 'tableRead' }],
    // What `whatif-local cdk --write` would write for that access.
    policy: [
      { sid: 'PipelineRead', actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], resources: [{ kind: 'table' }] },
      {
        sid: 'TableRead',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
        resources: [{ kind: 'table' }, { kind: 'tableIndexes' }],
      },
    ],
    ffmpeg: false,
    description: 'Cleans up',
  };
  const s = synth({ workers: [...workers, scheduled] });
  const alarms = ['whatif-dev-api-5xx-rate', 'whatif-dev-lambda-throttles', 'whatif-dev-dead-letter-queue'];
  for (const w of [...workers, scheduled]) alarms.push(`whatif-dev-${w.function}-errors`);
  for (const name of alarms) {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: name });
  }
  s.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
  s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: 'ApproximateNumberOfMessagesVisible',
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
  });
  s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    BatchSize: 5,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
  });
  // The queue's visibility timeout covers six runs of its slowest consumer.
  // (jobs-worker: 300 s, for a video's render)
  s.template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 1800 });
  s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  // The generation metrics the functions write in Embedded Metric Format.
  const dashboard = Object.values(s.template.findResources('AWS::CloudWatch::Dashboard'))[0];
  const body = JSON.stringify(dashboard.Properties.DashboardBody);
  assert.ok(body.includes("SEARCH('{WhatIf,provider}"), 'a search over the WhatIf namespace by provider');
  for (const metric of ['TotalTokens', 'CostUsd', 'ModelLatency', 'Fallbacks']) {
    assert.ok(body.includes(`MetricName=\\\\\\"${metric}`), `the dashboard graphs ${metric}`);
  }
});

test('a missing zip is an error unless placeholders are allowed', () => {
  const app = new cdk.App();
  const stack = new WhatIfStack(app, 'Strict', {
    env: { account: '123456789012', region: 'us-east-1' },
    stage: 'dev',
    routes,
    workers,
    lambdaDir: NO_ZIPS,
    mailFrom: 'noreply@whatif.example',
  });
  Annotations.fromStack(stack).hasError('*', Match.stringLikeRegexp('build-lambdas'));
});

test('only the functions that call models read the model keys and may invoke Bedrock', () => {
  for (const row of [...routes, ...workers]) {
    const calls = row.access.some((a) => a.kind === 'invokeModel');
    const asksKeys = row.access.some((a) => a.kind === 'secretRead' && a.scope === 'model-keys');
    const statements = statementsOf(dev, row.function);
    const invokes = statements.some((st) => actionsOf(st).includes('bedrock:InvokeModel'));
    const readsKeys = statements.some(
      (st) => actionsOf(st).includes('secretsmanager:GetSecretValue') && JSON.stringify(st.Resource).includes('model-keys'),
    );
    assert.equal(invokes, calls, `${row.function} may invoke models: ${calls}`);
    assert.equal(readsKeys, asksKeys, `${row.function} reads the model keys: ${asksKeys}`);
    if (calls) assert.ok(asksKeys, `${row.function} calls models without their keys`);
  }
  assert.ok(routes.some((r) => r.function === 'generation-generate' && r.access.some((a) => a.kind === 'invokeModel')));
});

test("each function's policy is its row's statements (made in Rust), on this stack's resources", () => {
  for (const row of [...routes, ...workers]) {
    // CDK's own statements (X-Ray) have no Sid.
    const statements = statementsOf(dev, row.function).filter((st: any) => st.Sid !== undefined);
    assert.deepEqual(
      statements.map((st: any) => st.Sid),
      row.policy.map((st) => st.sid),
      `${row.function}: the statements of routes.json/workers.json, in order`,
    );
    statements.forEach((st: any, i: number) => {
      // CDK sorts the actions.
      assert.deepEqual([...actionsOf(st)].sort(), [...row.policy[i].actions].sort(), `${row.function} ${st.Sid}: actions`);
      const resources = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
      assert.equal(resources.length, row.policy[i].resources.length, `${row.function} ${st.Sid}: resources`);
    });
  }
});
