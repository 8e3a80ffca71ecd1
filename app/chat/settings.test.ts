import { describe, expect, it } from 'vitest';
import { envProblems } from '../../test/env-problems.js';
import { DEFAULTS, settingsFromEnv, settingsSummary } from './settings.js';

const BASE = {
  CHAT_REGION: 'r1',
  NATS_URL: 'nats://nats.nats.svc:4222',
  NATS_USER: 'chat',
  NATS_PASSWORD: 's3cret-nats',
  CASSANDRA_CONTACT_POINTS: 'dc1-service.cassandra.svc:9042, other:9042',
  CASSANDRA_LOCAL_DC: 'dc1',
  CASSANDRA_USERNAME: 'chat_app',
  CASSANDRA_PASSWORD: 's3cret-cass',
  PGHOST: 'pgedge-n1-rw',
  PGPORT: '5432',
  PGDATABASE: 'app',
  PGUSER: 'app',
  PGSSLMODE: 'require',
  CHAT_CODE_SENDER: 'log',
};

const problems = (env: Record<string, string>): string[] => envProblems(settingsFromEnv, env);

describe('serve settings from the environment', () => {
  it('reads the contract with its defaults', () => {
    const s = settingsFromEnv(BASE);
    expect(s).toMatchObject({
      region: 'r1',
      port: DEFAULTS.port,
      nats: { servers: ['nats://nats.nats.svc:4222'], user: 'chat', password: 's3cret-nats' },
      cassandra: { contactPoints: ['dc1-service.cassandra.svc:9042', 'other:9042'], localDataCenter: 'dc1', keyspace: 'chat', username: 'chat_app' },
      pgDialect: 'spock',
      migrate: true,
      codeSender: { kind: 'log', devPrintCodes: false },
      maxFrameBytes: 16_384,
      ratePerSecond: 50,
      rateBurst: 100,
      authTimeoutMs: 10_000,
      handshakeTimeoutMs: 10_000,
      maxConnectionsPerAddress: 64,
      maxConnectionsPerUser: 8,
      trustedProxies: [],
      shutdownGraceSeconds: 20,
      writeMinIntervalMs: 5,
      health: { intervalMs: 2_000, timeoutMs: 2_000, failuresBeforeUnready: 3, successesBeforeReady: 2 },
    });
    expect(s.postgres).toMatchObject({ host: 'pgedge-n1-rw', port: 5432, database: 'app', user: 'app', application_name: 'regionmesh-chat-r1' });
    expect(s.postgres.ssl).toBeTruthy();
  });

  it('takes every optional variable', () => {
    const s = settingsFromEnv({
      ...BASE,
      CHAT_PORT: '9000',
      CASSANDRA_KEYSPACE: 'chat_test',
      CHAT_DEV_PRINT_CODES: 'true',
      CHAT_MAX_FRAME_BYTES: '4096',
      CHAT_RATE_PER_SECOND: '5',
      CHAT_RATE_BURST: '10',
      CHAT_AUTH_TIMEOUT_SECONDS: '3',
      CHAT_HANDSHAKE_TIMEOUT_SECONDS: '4',
      CHAT_MAX_CONNECTIONS_PER_ADDRESS: '5',
      CHAT_MAX_CONNECTIONS_PER_USER: '2',
      CHAT_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7,fd00::/8',
      CHAT_SHUTDOWN_GRACE_SECONDS: '3',
      CHAT_WRITE_MIN_INTERVAL_MS: '0',
      CHAT_PG_DIALECT: 'pglogical',
      CHAT_MIGRATE: 'false',
      CHAT_HEALTH_INTERVAL_SECONDS: '5',
      CHAT_HEALTH_TIMEOUT_SECONDS: '1',
      CHAT_HEALTH_FAILURES_BEFORE_UNREADY: '4',
      CHAT_HEALTH_SUCCESSES_BEFORE_READY: '6',
    });
    expect(s).toMatchObject({
      port: 9000,
      codeSender: { kind: 'log', devPrintCodes: true },
      maxFrameBytes: 4096,
      ratePerSecond: 5,
      rateBurst: 10,
      authTimeoutMs: 3_000,
      handshakeTimeoutMs: 4_000,
      maxConnectionsPerAddress: 5,
      maxConnectionsPerUser: 2,
      trustedProxies: ['10.0.0.0/8', '192.168.1.7', 'fd00::/8'],
      shutdownGraceSeconds: 3,
      writeMinIntervalMs: 0,
      pgDialect: 'pglogical',
      migrate: false,
      health: { intervalMs: 5_000, timeoutMs: 1_000, failuresBeforeUnready: 4, successesBeforeReady: 6 },
    });
    expect(s.cassandra.keyspace).toBe('chat_test');
  });

  it('names every bad variable and never echoes a value', () => {
    const p = problems({
      ...BASE,
      CHAT_REGION: 'Region_1',
      CHAT_PORT: '99999',
      NATS_URL: 'http://x',
      CHAT_CODE_SENDER: 'sms',
      CHAT_WRITE_MIN_INTERVAL_MS: '1001',
      NATS_PASSWORD: '',
      CASSANDRA_PASSWORD: 'only-password-XYZ',
      CASSANDRA_USERNAME: '',
    });
    const text = p.join('\n');
    for (const v of ['CHAT_REGION', 'CHAT_PORT', 'NATS_URL', 'CHAT_CODE_SENDER', 'CHAT_WRITE_MIN_INTERVAL_MS']) expect(text).toContain(v);
    expect(text).not.toContain('Region_1');
    expect(text).not.toContain('only-password-XYZ');
  });

  it('refuses health checks bounded by more than their interval, and zero rounds', () => {
    expect(problems({ ...BASE, CHAT_HEALTH_INTERVAL_SECONDS: '1', CHAT_HEALTH_TIMEOUT_SECONDS: '2' }).join('\n')).toMatch(/CHAT_HEALTH_TIMEOUT_SECONDS: must be at most CHAT_HEALTH_INTERVAL_SECONDS/);
    expect(problems({ ...BASE, CHAT_HEALTH_FAILURES_BEFORE_UNREADY: '0', CHAT_HEALTH_SUCCESSES_BEFORE_READY: 'x' }).join('\n')).toMatch(/CHAT_HEALTH_FAILURES_BEFORE_UNREADY[\s\S]*CHAT_HEALTH_SUCCESSES_BEFORE_READY|CHAT_HEALTH_SUCCESSES_BEFORE_READY[\s\S]*CHAT_HEALTH_FAILURES_BEFORE_UNREADY/);
  });

  it('listens on 0.0.0.0 unless CHAT_HOST names an address (the lab: 127.0.0.1)', () => {
    expect(settingsFromEnv(BASE).host).toBe('0.0.0.0');
    expect(settingsFromEnv({ ...BASE, CHAT_HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    expect(settingsFromEnv({ ...BASE, CHAT_HOST: '::1' }).host).toBe('::1');
    expect(() => settingsFromEnv({ ...BASE, CHAT_HOST: 'localhost' })).toThrow(/CHAT_HOST/);
  });

  it('refuses credentials inside NATS_URL (they would be logged)', () => {
    const p = problems({ ...BASE, NATS_URL: 'nats://chat:hunter2@nats:4222' });
    expect(p.join()).toContain('NATS_URL');
    expect(p.join()).not.toContain('hunter2');
  });

  it('wants credentials in pairs and a burst at least the rate', () => {
    expect(problems({ ...BASE, NATS_PASSWORD: '' }).join()).toContain('NATS_USER/NATS_PASSWORD');
    expect(problems({ ...BASE, CASSANDRA_USERNAME: '' }).join()).toContain('CASSANDRA_USERNAME/CASSANDRA_PASSWORD');
    expect(problems({ ...BASE, CHAT_RATE_PER_SECOND: '150' }).join()).toContain('CHAT_RATE_BURST');
  });

  it('reports missing required variables', () => {
    const p = problems({ PGHOST: 'x' });
    for (const v of ['CHAT_REGION', 'NATS_URL', 'CASSANDRA_CONTACT_POINTS', 'CASSANDRA_LOCAL_DC']) expect(p.join('\n')).toContain(`${v}: is required`);
  });

  it('summarises without credentials', () => {
    const text = JSON.stringify(settingsSummary(settingsFromEnv(BASE)));
    expect(text).not.toContain('s3cret');
    expect(text).toContain('dc1');
  });

  it('needs a code sender, chosen explicitly', () => {
    const { CHAT_CODE_SENDER: _, ...without } = BASE;
    expect(problems(without).join()).toContain('CHAT_CODE_SENDER: is required');
    expect(settingsFromEnv({ ...BASE, CHAT_CODE_SENDER: 'memory' }).codeSender).toEqual({ kind: 'memory' });
    expect(problems({ ...BASE, CHAT_CODE_SENDER: 'memory', CHAT_DEV_PRINT_CODES: 'true' }).join()).toContain('CHAT_DEV_PRINT_CODES: only applies to CHAT_CODE_SENDER=log');
  });

  it('reads the smtp sender, with the port its TLS mode implies', () => {
    const smtp = { ...BASE, CHAT_CODE_SENDER: 'smtp', CHAT_SMTP_HOST: 'smtp.example.com', CHAT_SMTP_FROM: 'Chat <no-reply@example.com>' };
    expect(settingsFromEnv(smtp).codeSender).toEqual({ kind: 'smtp', host: 'smtp.example.com', port: 587, tls: 'starttls', from: 'Chat <no-reply@example.com>' });
    expect(settingsFromEnv({ ...smtp, CHAT_SMTP_TLS: 'implicit' }).codeSender).toMatchObject({ port: 465, tls: 'implicit' });
    expect(settingsFromEnv({ ...smtp, CHAT_SMTP_TLS: 'none', CHAT_SMTP_PORT: '1025' }).codeSender).toMatchObject({ port: 1025, tls: 'none' });
    expect(settingsFromEnv({ ...smtp, CHAT_SMTP_USER: 'mailer', CHAT_SMTP_PASSWORD: 'pw-SMTP-1' }).codeSender).toMatchObject({ user: 'mailer', password: 'pw-SMTP-1' });
  });

  it('names what the smtp sender lacks, never a value', () => {
    const p = problems({ ...BASE, CHAT_CODE_SENDER: 'smtp', CHAT_SMTP_PASSWORD: 'pw-SMTP-2', CHAT_SMTP_TLS: 'plain' }).join('\n');
    expect(p).toContain('CHAT_SMTP_TLS');
    expect(problems({ ...BASE, CHAT_CODE_SENDER: 'smtp', CHAT_SMTP_PASSWORD: 'pw-SMTP-2' }).join('\n')).toMatch(/CHAT_SMTP_HOST: is required[\s\S]*CHAT_SMTP_FROM: is required[\s\S]*CHAT_SMTP_USER\/CHAT_SMTP_PASSWORD/);
    const clear = problems({ ...BASE, CHAT_CODE_SENDER: 'smtp', CHAT_SMTP_HOST: 'h', CHAT_SMTP_FROM: 'a@b.example', CHAT_SMTP_TLS: 'none', CHAT_SMTP_USER: 'u', CHAT_SMTP_PASSWORD: 'pw-SMTP-3' });
    expect(clear.join()).toContain('CHAT_SMTP_TLS: none would send CHAT_SMTP_PASSWORD in clear text');
    expect(problems({ ...BASE, CHAT_CODE_SENDER: 'smtp', CHAT_SMTP_HOST: 'h', CHAT_SMTP_FROM: 'nobody\r\nBcc: x@y.z' }).join()).toContain('CHAT_SMTP_FROM');
    expect([...clear, p].join()).not.toContain('pw-SMTP');
  });

  it('reads the webhook sender and refuses a short key or a URL with credentials, never echoing them', () => {
    const key = 'k'.repeat(40);
    const hook = { ...BASE, CHAT_CODE_SENDER: 'webhook', CHAT_WEBHOOK_URL: 'https://sms.example.com/hook?token=T0KEN', CHAT_WEBHOOK_KEY: key };
    expect(settingsFromEnv(hook).codeSender).toEqual({ kind: 'webhook', url: 'https://sms.example.com/hook?token=T0KEN', key, timeoutMs: 5_000 });
    expect(settingsFromEnv({ ...hook, CHAT_WEBHOOK_TIMEOUT_MS: '1500' }).codeSender).toMatchObject({ timeoutMs: 1_500 });
    const p = problems({ ...hook, CHAT_WEBHOOK_KEY: 'short-KEY-1', CHAT_WEBHOOK_URL: 'https://u:PASSWD@sms.example.com/' }).join('\n');
    expect(p).toContain('CHAT_WEBHOOK_KEY: must be at least 32 characters');
    expect(p).toContain('CHAT_WEBHOOK_URL: must not contain user:password@');
    expect(p).not.toMatch(/short-KEY-1|PASSWD/);
    expect(problems({ ...hook, CHAT_WEBHOOK_URL: 'ftp://x' }).join()).toContain('CHAT_WEBHOOK_URL: must start with https://');
    expect(problems({ ...BASE, CHAT_CODE_SENDER: 'webhook' }).join('\n')).toMatch(/CHAT_WEBHOOK_URL: is required[\s\S]*CHAT_WEBHOOK_KEY: is required/);
    const summary = JSON.stringify(settingsSummary(settingsFromEnv(hook)));
    expect(summary).toContain('https://sms.example.com');
    expect(summary).not.toMatch(/T0KEN|kkkkkkkk/);
  });

  it('refuses bad limits and trusted proxies by position, not by text', () => {
    const p = problems({ ...BASE, CHAT_TRUSTED_PROXIES: '10.0.0.0/8,not-an-ip-XYZ,10.0.0.0/33', CHAT_AUTH_TIMEOUT_SECONDS: '0', CHAT_MAX_CONNECTIONS_PER_USER: 'many' });
    const text = p.join('\n');
    expect(text).toContain('CHAT_AUTH_TIMEOUT_SECONDS');
    expect(text).toContain('CHAT_MAX_CONNECTIONS_PER_USER');
    const proxies = problems({ ...BASE, CHAT_TRUSTED_PROXIES: '10.0.0.0/8,not-an-ip-XYZ,10.0.0.0/33' });
    expect(proxies).toEqual([
      'CHAT_TRUSTED_PROXIES: entry 2 is not an IPv4 or IPv6 address (write an IP like 10.0.0.7 or a CIDR like 10.0.0.0/8)',
      'CHAT_TRUSTED_PROXIES: entry 3 has a prefix length outside 0..32 (write an IP like 10.0.0.7 or a CIDR like 10.0.0.0/8)',
    ]);
    expect(text).not.toContain('XYZ');
  });

  it('summarises without credentials', () => {
    const text = JSON.stringify(settingsSummary(settingsFromEnv(BASE)));
    expect(text).not.toContain('s3cret');
    expect(text).toContain('dc1');
    const smtp = settingsFromEnv({ ...BASE, CHAT_CODE_SENDER: 'smtp', CHAT_SMTP_HOST: 'smtp.example.com', CHAT_SMTP_FROM: 'a@example.com', CHAT_SMTP_USER: 'mailer', CHAT_SMTP_PASSWORD: 'pw-SMTP-4' });
    expect(JSON.stringify(settingsSummary(smtp))).not.toContain('pw-SMTP-4');
    expect(settingsSummary(smtp)['codeSender']).toEqual({ kind: 'smtp', host: 'smtp.example.com', port: 587, tls: 'starttls', from: 'a@example.com', auth: true });
  });
});
