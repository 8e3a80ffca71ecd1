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
      codeSender: 'log',
      devPrintCodes: false,
      maxFrameBytes: 16_384,
      ratePerSecond: 20,
      rateBurst: 40,
      shutdownGraceSeconds: 20,
    });
    expect(s.postgres).toMatchObject({ host: 'pgedge-n1-rw', port: 5432, database: 'app', user: 'app', application_name: 'regionmesh-chat-r1' });
    expect(s.postgres.ssl).toBeTruthy();
  });

  it('takes every optional variable', () => {
    const s = settingsFromEnv({
      ...BASE,
      CHAT_PORT: '9000',
      CASSANDRA_KEYSPACE: 'chat_test',
      CHAT_CODE_SENDER: 'memory',
      CHAT_DEV_PRINT_CODES: 'true',
      CHAT_MAX_FRAME_BYTES: '4096',
      CHAT_RATE_PER_SECOND: '5',
      CHAT_RATE_BURST: '10',
      CHAT_SHUTDOWN_GRACE_SECONDS: '3',
      CHAT_PG_DIALECT: 'pglogical',
      CHAT_MIGRATE: 'false',
    });
    expect(s).toMatchObject({ port: 9000, codeSender: 'memory', devPrintCodes: true, maxFrameBytes: 4096, ratePerSecond: 5, rateBurst: 10, shutdownGraceSeconds: 3, pgDialect: 'pglogical', migrate: false });
    expect(s.cassandra.keyspace).toBe('chat_test');
  });

  it('names every bad variable and never echoes a value', () => {
    const p = problems({
      ...BASE,
      CHAT_REGION: 'Region_1',
      CHAT_PORT: '99999',
      NATS_URL: 'http://x',
      CHAT_CODE_SENDER: 'smtp',
      NATS_PASSWORD: '',
      CASSANDRA_PASSWORD: 'only-password-XYZ',
      CASSANDRA_USERNAME: '',
    });
    const text = p.join('\n');
    for (const v of ['CHAT_REGION', 'CHAT_PORT', 'NATS_URL', 'CHAT_CODE_SENDER']) expect(text).toContain(v);
    expect(text).not.toContain('Region_1');
    expect(text).not.toContain('only-password-XYZ');
  });

  it('refuses credentials inside NATS_URL (they would be logged)', () => {
    const p = problems({ ...BASE, NATS_URL: 'nats://chat:hunter2@nats:4222' });
    expect(p.join()).toContain('NATS_URL');
    expect(p.join()).not.toContain('hunter2');
  });

  it('wants credentials in pairs and a burst at least the rate', () => {
    expect(problems({ ...BASE, NATS_PASSWORD: '' }).join()).toContain('NATS_USER/NATS_PASSWORD');
    expect(problems({ ...BASE, CASSANDRA_USERNAME: '' }).join()).toContain('CASSANDRA_USERNAME/CASSANDRA_PASSWORD');
    expect(problems({ ...BASE, CHAT_RATE_PER_SECOND: '50' }).join()).toContain('CHAT_RATE_BURST');
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
});
