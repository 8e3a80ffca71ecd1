/**
 * The `app` part of the config: the regionmesh image, the chat backend's size, how login codes
 * reach people (`loginCodes`), the limits that shed abuse (`limits`) and when a region counts as
 * able to serve chat (`health`).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { dnsLabel, dnsSubdomain, imageRef, port, ResourcesSchema } from '../../regions/fields.js';
import { rule, type ConfigSlice, type PlatformConfig, type PlatformRuleViolation } from '../../regions/schema.js';

/** The default SMTP port of each TLS mode. */
export const SMTP_DEFAULT_PORT = { implicit: 465, starttls: 587, none: 25 } as const;

const SmtpSchema = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.\-_[\]:]+$/, { message: 'is not a host name or IP address (e.g. "smtp.example.com")' })
      .describe('The SMTP relay (submission server) the backend hands login-code mails to.'),
    port: port.optional().describe('Relay port (default by tls: implicit 465, starttls 587, none 25).'),
    tls: z
      .enum(['implicit', 'starttls', 'none'])
      .default('starttls')
      .describe('implicit: TLS from the first byte (465); starttls: plain connect, then STARTTLS is required (587); none: no TLS (an in-cluster relay only).'),
    from: z
      .string()
      .max(320)
      .refine((v) => !/[\r\n]/.test(v) && /(^|<)[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>?$/.test(v), {
        message: 'is not a From address (e.g. "no-reply@example.com" or "Chat <no-reply@example.com>")',
      })
      .describe('The From header of login-code mails.'),
    credentialsSecret: dnsSubdomain('Secret name')
      .optional()
      .describe('Secret with keys `user` and `password` for SMTP AUTH, in the chat namespace of every region (SECRETS.md lists it). Omit for a relay without AUTH.'),
  })
  .describe('Login codes by e-mail through an SMTP relay.');

const WebhookSchema = z
  .strictObject({
    secret: dnsSubdomain('Secret name').describe(
      'Secret with keys `url` (where to POST) and `key` (the HMAC-SHA256 signing key, at least 32 characters), in the chat namespace of every region (SECRETS.md lists it).',
    ),
    timeoutSeconds: z.int().min(1).max(60).default(5).describe('Bound of one POST attempt; up to 3 attempts on 5xx or a network error.'),
  })
  .describe('Login codes by a signed HTTP POST (an SMS gateway, an internal notification service).');

export const LoginCodesSchema = z
  .strictObject({
    sender: z
      .enum(['smtp', 'webhook', 'log'])
      .describe('How login codes reach people: smtp (e-mail), webhook (signed HTTP POST), or log (a lab only: nobody receives the code).'),
    smtp: SmtpSchema.optional(),
    webhook: WebhookSchema.optional(),
  })
  .describe('How the chat backend sends login codes (required: production needs smtp or webhook).');

/** An IP (10.0.0.7, fd00::1) or a CIDR range (10.0.0.0/8, fd00::/8). */
function isIpOrCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const v = isIP(address);
  if (v === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (v === 4 ? 32 : 128));
}

export const LimitsSchema = z
  .strictObject({
    authTimeoutSeconds: z.int().min(1).max(600).default(10).describe('An upgraded socket must authenticate within this, or it is closed (1008).'),
    handshakeTimeoutSeconds: z.int().min(1).max(600).default(10).describe('HTTP request headers and the WebSocket upgrade must complete within this.'),
    maxConnectionsPerAddress: z.int().min(1).max(1_000_000).default(64).describe('Open sockets per source address (behind trusted proxies: the X-Forwarded-For client).'),
    maxConnectionsPerUser: z.int().min(1).max(10_000).default(8).describe('Authenticated sockets per user.'),
    trustedProxies: z
      .array(z.string().refine(isIpOrCidr, { message: 'is not an IP address or CIDR range (e.g. "10.0.0.0/8" or "10.1.2.3")' }))
      .max(256)
      .default([])
      .describe('Proxies (IPs or CIDRs) whose X-Forwarded-For is believed, e.g. the ingress controller pods. Default none: the socket peer is the client.'),
    ratePerSecond: z.int().min(1).max(10_000).default(50).describe('Per-connection token bucket: frames per second.'),
    rateBurst: z.int().min(1).max(100_000).default(100).describe('Per-connection token bucket size (frames); at least ratePerSecond.'),
  })
  .describe('Limits that shed abuse without hurting paced users.');

export const HealthSchema = z
  .strictObject({
    intervalSeconds: z.int().min(1).max(300).default(2).describe('Time between two rounds of dependency checks (NATS round trip, Cassandra LOCAL_QUORUM read in the local DC, Postgres query). Also the readinessProbe period.'),
    timeoutSeconds: z.int().min(1).max(300).default(2).describe('Bound of each check; a slower answer counts as down. At most intervalSeconds.'),
    failuresBeforeUnready: z
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe('Failing rounds in a row before the backend reports unready (/readyz 503: out of the Service and of global DNS) and tells its clients to reconnect elsewhere (4001). One slow query must not flap a region out of DNS.'),
    successesBeforeReady: z.int().min(1).max(100).default(2).describe('Healthy rounds in a row before the backend reports ready again.'),
  })
  .describe('When a region counts as able to serve chat (app/chat/health.ts). Unready within about failuresBeforeUnready x intervalSeconds + timeoutSeconds of a dependency dying, never sooner than (failuresBeforeUnready - 1) x intervalSeconds.');

export const AppSchema = z
  .strictObject({
    image: imageRef.describe('The regionmesh app image (chat backend and bootstrap jobs), pinned.'),
    namespace: dnsLabel('namespace').default('chat').describe('Namespace of the chat backend in every region.'),
    minReplicas: z.int().min(1).max(100).default(2).describe('Chat backend pods per region at least (HPA minimum).'),
    maxReplicas: z.int().min(1).max(500).default(10).describe('Chat backend pods per region at most (HPA maximum).'),
    targetCpuUtilization: z.int().min(10).max(100).default(70).describe('HPA target: average CPU, percent of the request.'),
    resources: ResourcesSchema.default({ cpu: '200m', memory: '256Mi' }),
    shutdownGraceSeconds: z.int().min(5).max(300).default(20).describe('Time to drain sockets and NATS on shutdown.'),
    writeMinIntervalMs: z
      .int()
      .min(0)
      .max(1_000)
      .default(5)
      .describe('Least time between the starts of two Cassandra writes of one room, ms: a busy room sends fewer, larger batches (Cassandra CPU follows the number of requests), a quiet room writes at once. 0: no spacing.'),
    loginCodes: LoginCodesSchema,
    limits: LimitsSchema.prefault({}),
    health: HealthSchema.prefault({}),
  })
  .describe('The regionmesh runtime image built from app/Dockerfile.');

export type AppConfig = z.output<typeof AppSchema>;
export type LoginCodesConfig = z.output<typeof LoginCodesSchema>;
export type HealthConfig = z.output<typeof HealthSchema>;

declare module '../../regions/schema.js' {
  interface ComponentConfigs {
    app: AppConfig;
  }
  interface ComponentConfigInputs {
    app: z.input<typeof AppSchema>;
  }
}

const LOGIN = ['app', 'loginCodes'] as const;

/** sender <-> its block, `log` only in a lab, no SMTP password over a connection without TLS. */
function loginCodeViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const lc = c.app?.loginCodes;
  // Missing or malformed: the shape error is reported already.
  if (lc === undefined || lc === null || typeof lc !== 'object') return [];
  const v: PlatformRuleViolation[] = [];
  if (lc.sender === 'smtp' && !lc.smtp) v.push({ path: [...LOGIN, 'smtp'], message: 'sender is smtp but there is no smtp block (add smtp: {host, from, ...})' });
  if (lc.sender === 'webhook' && !lc.webhook) v.push({ path: [...LOGIN, 'webhook'], message: 'sender is webhook but there is no webhook block (add webhook: {secret: <Secret name>})' });
  if (lc.sender !== 'smtp' && lc.smtp) v.push({ path: [...LOGIN, 'smtp'], message: `sender is ${lc.sender}, so this smtp block is unused (remove it, or set sender: smtp)` });
  if (lc.sender !== 'webhook' && lc.webhook) v.push({ path: [...LOGIN, 'webhook'], message: `sender is ${lc.sender}, so this webhook block is unused (remove it, or set sender: webhook)` });
  if (lc.sender === 'log' && !c.lab) {
    v.push({
      path: [...LOGIN, 'sender'],
      message: 'the log sender only logs that a code was issued: nobody receives it, so nobody can log in (use smtp or webhook; for a lab or development platform, set `lab: true` at the top of the file)',
    });
  }
  if (lc.sender === 'smtp' && lc.smtp?.tls === 'none' && lc.smtp.credentialsSecret !== undefined) {
    v.push({ path: [...LOGIN, 'smtp', 'tls'], message: 'tls none would send the SMTP password in clear text (use starttls or implicit, or remove credentialsSecret)' });
  }
  return v;
}

export const appConfig: ConfigSlice = {
  key: 'app',
  schema: AppSchema,
  rules: [
    rule('app-replicas', ['app'], (c) =>
      c.app.maxReplicas < c.app.minReplicas
        ? [{ path: ['app', 'maxReplicas'], message: `maxReplicas ${c.app.maxReplicas} is below minReplicas ${c.app.minReplicas} (raise maxReplicas)` }]
        : [],
    ),
    rule('app-login-codes', [...LOGIN], loginCodeViolations),
    rule('app-health-timeout', ['app', 'health'], (c) =>
      c.app?.health && c.app.health.timeoutSeconds > c.app.health.intervalSeconds
        ? [{ path: ['app', 'health', 'timeoutSeconds'], message: `timeoutSeconds ${c.app.health.timeoutSeconds} is above intervalSeconds ${c.app.health.intervalSeconds} (a round must end before the next one is due: lower timeoutSeconds or raise intervalSeconds)` }]
        : [],
    ),
    rule('app-rate-burst', ['app', 'limits'], (c) =>
      c.app?.limits && c.app.limits.rateBurst < c.app.limits.ratePerSecond
        ? [{ path: ['app', 'limits', 'rateBurst'], message: `rateBurst ${c.app.limits.rateBurst} is below ratePerSecond ${c.app.limits.ratePerSecond} (a full bucket must hold one second of frames: raise rateBurst)` }]
        : [],
    ),
  ],
};
