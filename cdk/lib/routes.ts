// The route table and the worker rows, as `whatif-local routes --write` writes
// them (cdk/routes.json, cdk/workers.json), and what they mean for IAM.
//
// The IAM mapping is the same as the SAM template's (local/src/template.rs):
// every function gets what the request pipeline needs, plus one group of
// statements per capability in its `access` list.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as iam from 'aws-cdk-lib/aws-iam';

/** A capability a function needs (shared/src/routes.rs `Access`). */
export type Access =
  | { kind: 'tableRead' }
  | { kind: 'tableWrite' }
  | { kind: 'healthChecks' }
  | { kind: 'blobRead'; scope: string }
  | { kind: 'blobWrite'; scope: string }
  | { kind: 'queueSend' }
  | { kind: 'queueConsume' }
  | { kind: 'secretRead'; scope: string }
  | { kind: 'secretWrite'; scope: string }
  | { kind: 'sendEmail' }
  | { kind: 'invokeModel' };

/** One row of the route table = one Lambda function behind the HTTP API. */
export interface RouteRow {
  function: string;
  method: string;
  path: string;
  auth: string;
  rateLimitClass: string | null;
  idempotent: boolean;
  memoryMb: number;
  timeoutSeconds: number;
  maxBodyBytes: number | null;
  access: Access[];
}

/** A function no route calls: a job-queue consumer or a scheduled job. */
export interface WorkerRow {
  function: string;
  trigger: { kind: 'queue'; batchSize: number } | { kind: 'schedule'; expression: string };
  memoryMb: number;
  timeoutSeconds: number;
  access: Access[];
  ffmpeg: boolean;
  description: string;
}

/** The committed tables, next to package.json. */
export const DEFAULT_ROUTES_FILE = path.join(__dirname, '..', '..', 'routes.json');
export const DEFAULT_WORKERS_FILE = path.join(__dirname, '..', '..', 'workers.json');

export function loadRoutes(file: string = DEFAULT_ROUTES_FILE): RouteRow[] {
  const rows = JSON.parse(fs.readFileSync(file, 'utf8')) as RouteRow[];
  if (!Array.isArray(rows)) throw new Error(`${file}: expected an array of route rows`);
  return rows;
}

export function loadWorkers(file: string = DEFAULT_WORKERS_FILE): WorkerRow[] {
  if (!fs.existsSync(file)) return [];
  const rows = JSON.parse(fs.readFileSync(file, 'utf8')) as WorkerRow[];
  if (!Array.isArray(rows)) throw new Error(`${file}: expected an array of worker rows`);
  return rows;
}

/** `jobs-worker` -> `JobsWorker` (construct ids). */
export function pascal(name: string): string {
  return name
    .split(/[-_]/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

/** The ARNs the statements point at. */
export interface Resources {
  tableArn: string;
  bucketArn: string;
  queueArn: string;
  /** The ARN pattern of the secret `name` (prefix included, `-??????` suffix). */
  secretArn: (name: string) => string;
  /** The ARN pattern of the SES identities, and the one sender allowed. */
  sesIdentityArn: string;
  mailFrom: string;
  /** Bedrock's foundation models, and this account's inference profiles. */
  foundationModelArn: string;
  inferenceProfileArn: string;
}

/** The IAM statements of a function with `access`. */
export function policyStatements(access: Access[], r: Resources): iam.PolicyStatement[] {
  const st = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
    new iam.PolicyStatement({ sid, effect: iam.Effect.ALLOW, actions, resources, conditions });
  const has = (kind: Access['kind']) => access.some((a) => a.kind === kind);
  const scopes = (kind: Access['kind']) => [
    ...new Set(access.filter((a) => a.kind === kind).map((a) => (a as { scope: string }).scope)),
  ];

  const out = [
    // Token status, JWKS, replays: every function reads single items.
    st('PipelineRead', ['dynamodb:GetItem'], [r.tableArn]),
    // Rate-limit windows and idempotency records, and nothing else.
    st('PipelineLimits', ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [r.tableArn], {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RL#*', 'IDEM#*'] },
    }),
  ];
  if (has('tableRead')) {
    out.push(
      st('TableRead', ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'], [r.tableArn, `${r.tableArn}/index/*`]),
    );
  }
  if (has('tableWrite')) {
    // TransactWriteItems has no IAM action of its own: each item is authorised as what it is.
    out.push(
      st(
        'TableWrite',
        ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
        [r.tableArn],
      ),
    );
  }
  if (has('healthChecks')) {
    out.push(st('HealthTable', ['dynamodb:DescribeTable'], [r.tableArn]));
    out.push(st('HealthBucket', ['s3:ListBucket'], [r.bucketArn])); // HeadBucket
    out.push(st('HealthQueue', ['sqs:GetQueueAttributes'], [r.queueArn]));
  }
  const objects = (prefixes: string[]) => prefixes.map((p) => `${r.bucketArn}/${p}*`);
  const read = scopes('blobRead');
  if (read.length) {
    out.push(st('BlobRead', ['s3:GetObject'], objects(read)));
    // Listing keys under the same prefixes (ListObjectsV2 asks for the prefix).
    out.push(st('BlobList', ['s3:ListBucket'], [r.bucketArn], { StringLike: { 's3:prefix': read.map((p) => `${p}*`) } }));
  }
  const write = scopes('blobWrite');
  if (write.length) out.push(st('BlobWrite', ['s3:PutObject', 's3:DeleteObject'], objects(write)));
  if (has('queueSend')) out.push(st('QueueSend', ['sqs:SendMessage'], [r.queueArn]));
  if (has('queueConsume')) {
    out.push(
      st(
        'QueueConsume',
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        [r.queueArn],
      ),
    );
  }
  const secretsRead = scopes('secretRead');
  if (secretsRead.length) out.push(st('SecretRead', ['secretsmanager:GetSecretValue'], secretsRead.map(r.secretArn)));
  const secretsWrite = scopes('secretWrite');
  if (secretsWrite.length) out.push(st('SecretWrite', ['secretsmanager:PutSecretValue'], secretsWrite.map(r.secretArn)));
  if (has('invokeModel')) {
    // Converse is authorised as InvokeModel: foundation models, and the
    // inference profiles newer models are called through.
    out.push(st('InvokeModel', ['bedrock:InvokeModel'], [r.foundationModelArn, r.inferenceProfileArn]));
  }
  if (has('sendEmail')) {
    out.push(
      st('SendEmail', ['ses:SendEmail', 'ses:SendRawEmail'], [r.sesIdentityArn], {
        StringEquals: { 'ses:FromAddress': r.mailFrom },
      }),
    );
  }
  return out;
}

/** Path prefixes CloudFront always sends to the API (whatever the table holds today). */
export const API_PATH_PATTERNS = ['/api/*', '/shared/*', '/qr/*', '/health'];

/**
 * The CloudFront path patterns that go to the HTTP API: the fixed ones, plus
 * any route outside them (e.g. `/openapi.json`), so every route is reachable
 * through the site's domain.
 */
export function apiPathPatterns(routes: RouteRow[]): string[] {
  const patterns = [...API_PATH_PATTERNS];
  const covered = (p: string) =>
    patterns.some((pattern) => (pattern.endsWith('/*') ? p.startsWith(pattern.slice(0, -1)) : p === pattern));
  for (const route of routes) {
    if (covered(route.path)) continue;
    const param = route.path.indexOf('{');
    patterns.push(param >= 0 ? `${route.path.slice(0, param)}*` : route.path);
  }
  return patterns;
}
