// The route table and the worker rows, as `whatif-local cdk --write` writes
// them (cdk/routes.json, cdk/workers.json), with the constants the Rust code
// and this app share (cdk/constants.json).
//
// Each row carries its IAM statements (`policy`), made in Rust from its
// `access` (shared/src/iam.rs, which the SAM template renders too); this file
// only turns their abstract resources and conditions into this stack's ARNs.

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
  | { kind: 'invokeModel' }
  | { kind: 'speech' };

/** A statement's resource (shared/src/iam.rs `Resource`). */
export type PolicyResource =
  | { kind: 'table' }
  | { kind: 'tableIndexes' }
  | { kind: 'bucket' }
  | { kind: 'bucketObjects'; prefix: string }
  | { kind: 'queue' }
  | { kind: 'secret'; name: string }
  | { kind: 'foundationModels' }
  | { kind: 'inferenceProfiles' }
  | { kind: 'sesIdentities' }
  | { kind: 'any' };

/** A statement's condition (shared/src/iam.rs `Condition`). */
export type PolicyCondition =
  | { kind: 'leadingKeys'; patterns: string[] }
  | { kind: 's3Prefix'; patterns: string[] }
  | { kind: 'fromAddress' };

/** One Allow statement of a function's policy (shared/src/iam.rs `Statement`). */
export interface PolicyStatement {
  sid: string;
  actions: string[];
  resources: PolicyResource[];
  condition?: PolicyCondition;
}

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
  /** Its IAM statements (made from `access` in Rust). */
  policy: PolicyStatement[];
}

/** A function no route calls: a job-queue consumer or a scheduled job. */
export interface WorkerRow {
  function: string;
  trigger: { kind: 'queue'; batchSize: number } | { kind: 'schedule'; expression: string };
  memoryMb: number;
  timeoutSeconds: number;
  /** Its /tmp size in MB (512: Lambda's default). */
  ephemeralStorageMb: number;
  access: Access[];
  /** Its IAM statements (made from `access` in Rust). */
  policy: PolicyStatement[];
  ffmpeg: boolean;
  description: string;
}

/** What the Rust code and this app share (shared/src/config.rs). */
export interface Constants {
  secrets: { signingKeys: string; modelKeys: string; stripe: string };
  corsAllowHeaders: string[];
  corsExposeHeaders: string[];
  /** Receives of one job before it moves to the dead-letter queue. */
  maxReceives: number;
}

/** The committed tables, next to package.json. */
export const DEFAULT_ROUTES_FILE = path.join(__dirname, '..', '..', 'routes.json');
export const DEFAULT_WORKERS_FILE = path.join(__dirname, '..', '..', 'workers.json');
export const DEFAULT_CONSTANTS_FILE = path.join(__dirname, '..', '..', 'constants.json');

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

export function loadConstants(file: string = DEFAULT_CONSTANTS_FILE): Constants {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Constants;
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

/** The ARN of an abstract resource of shared/src/iam.rs. */
export function resourceArn(res: PolicyResource, r: Resources): string {
  switch (res.kind) {
    case 'table':
      return r.tableArn;
    case 'tableIndexes':
      return `${r.tableArn}/index/*`;
    case 'bucket':
      return r.bucketArn;
    case 'bucketObjects':
      return `${r.bucketArn}/${res.prefix}*`;
    case 'queue':
      return r.queueArn;
    case 'secret':
      return r.secretArn(res.name);
    case 'foundationModels':
      return r.foundationModelArn;
    case 'inferenceProfiles':
      return r.inferenceProfileArn;
    case 'sesIdentities':
      return r.sesIdentityArn;
    case 'any':
      return '*';
  }
}

/** The IAM condition block of an abstract condition of shared/src/iam.rs. */
export function conditionBlock(c: PolicyCondition, r: Resources): Record<string, unknown> {
  switch (c.kind) {
    case 'leadingKeys':
      return { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': c.patterns } };
    case 's3Prefix':
      return { StringLike: { 's3:prefix': c.patterns } };
    case 'fromAddress':
      return { StringEquals: { 'ses:FromAddress': r.mailFrom } };
  }
}

/** A row's statements (made in Rust, `policy` in the JSON) as IAM statements on this stack's resources. */
export function policyStatements(policy: PolicyStatement[], r: Resources): iam.PolicyStatement[] {
  return policy.map(
    (st) =>
      new iam.PolicyStatement({
        sid: st.sid,
        effect: iam.Effect.ALLOW,
        actions: st.actions,
        resources: st.resources.map((res) => resourceArn(res, r)),
        conditions: st.condition ? conditionBlock(st.condition, r) : undefined,
      }),
  );
}

/** Path prefixes CloudFront always sends to the API (whatever the table holds today). */
export const API_PATH_PATTERNS = ['/api/*', '/shared/*', '/qr/*', '/s/*', '/health'];

/**
 * The API paths CloudFront caches, as the API's `Cache-Control` says and never
 * over a minute: share pages, preview cards and QR codes (public, the same for
 * every viewer; each answer carries an ETag, so a revalidation is a 304).
 */
export const CACHED_PATH_PATTERNS = ['/qr/*', '/s/*'];

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
