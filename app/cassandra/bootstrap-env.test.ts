/** The bootstrap's environment contract and its secret handling: pure, no server. */
import { describe, expect, it } from 'vitest';
import { envProblems } from '../../test/env-problems.js';
import { EnvError } from '../env.js';
import { run } from './bootstrap-command.js';
import { DataCentersNotReadyError, scrubSecrets, settingsFromEnv, tableId } from './bootstrap.js';

const BASE = {
  CASSANDRA_CONTACT_POINTS: 'chat-us-east-1-service.cassandra.svc:9042, 10.0.0.7',
  CASSANDRA_LOCAL_DC: 'us-east-1',
  CASSANDRA_DATACENTERS: 'us-east-1,eu-west-1',
  CASSANDRA_REPLICATION_FACTOR: '3',
  CASSANDRA_SUPERUSER_USERNAME: 'chat-superuser',
  CASSANDRA_SUPERUSER_PASSWORD: 'super-Secret-1',
  CASSANDRA_APP_USERNAME: 'chat_app',
  CASSANDRA_APP_PASSWORD: "app-Secret-'2",
} as const;

const problemsOf = (env: Record<string, string | undefined>): string[] => envProblems(settingsFromEnv, env);

describe('settingsFromEnv', () => {
  it('reads every variable, with defaults for the keyspace and the deadline', () => {
    expect(settingsFromEnv({ ...BASE })).toEqual({
      contactPoints: ['chat-us-east-1-service.cassandra.svc:9042', '10.0.0.7'],
      localDc: 'us-east-1',
      dataCenters: ['us-east-1', 'eu-west-1'],
      decommissionDataCenters: [],
      replicationFactor: 3,
      keyspace: 'chat',
      superuser: { username: 'chat-superuser', password: 'super-Secret-1' },
      app: { username: 'chat_app', password: "app-Secret-'2" },
      deadlineSeconds: 600,
    });
    const s = settingsFromEnv({ ...BASE, CASSANDRA_KEYSPACE: 'history', BOOTSTRAP_DEADLINE_SECONDS: '30', CASSANDRA_CONTACT_POINTS: '[::1]:9042' });
    expect(s.keyspace).toBe('history');
    expect(s.deadlineSeconds).toBe(30);
    expect(s.contactPoints).toEqual(['[::1]:9042']);
  });

  it('names every missing variable', () => {
    const problems = problemsOf({});
    for (const name of [
      'CASSANDRA_CONTACT_POINTS',
      'CASSANDRA_LOCAL_DC',
      'CASSANDRA_DATACENTERS',
      'CASSANDRA_REPLICATION_FACTOR',
      'CASSANDRA_SUPERUSER_USERNAME',
      'CASSANDRA_SUPERUSER_PASSWORD',
      'CASSANDRA_APP_USERNAME',
      'CASSANDRA_APP_PASSWORD',
    ]) {
      expect(problems).toContain(`${name}: is required but not set`);
    }
    expect(problems.join('\n')).not.toMatch(/CASSANDRA_KEYSPACE|BOOTSTRAP_DEADLINE_SECONDS/);
  });

  it.each([
    ['CASSANDRA_REPLICATION_FACTOR', '0'],
    ['CASSANDRA_REPLICATION_FACTOR', 'three'],
    ['CASSANDRA_KEYSPACE', 'Chat'],
    ['CASSANDRA_KEYSPACE', 'system_x'],
    ['CASSANDRA_KEYSPACE', 'chat"; DROP'],
    ['CASSANDRA_APP_USERNAME', "app'; DROP ROLE x"],
    ['CASSANDRA_DATACENTERS', "us-east-1,eu'west"],
    ['CASSANDRA_DATACENTERS', 'us-east-1,us-east-1'],
    ['CASSANDRA_DATACENTERS', ' , '],
    ['CASSANDRA_CONTACT_POINTS', 'http://x:9042'],
    ['CASSANDRA_LOCAL_DC', 'ap-south-1'],
    ['BOOTSTRAP_DEADLINE_SECONDS', '0'],
    ['CASSANDRA_APP_PASSWORD', ''],
    ['CASSANDRA_DECOMMISSION_DATACENTERS', 'us-east-1'],
    ['CASSANDRA_DECOMMISSION_DATACENTERS', "dc'3"],
  ])('rejects %s=%j, naming the variable but not the value', (name, value) => {
    const problems = problemsOf({ ...BASE, [name]: value });
    expect(problems.some((p) => p.startsWith(`${name}: `))).toBe(true);
    if (value.length > 3) for (const p of problems) expect(p).not.toContain(value);
  });

  it('reads the DCs of leaving regions', () => {
    expect(settingsFromEnv({ ...BASE, CASSANDRA_DECOMMISSION_DATACENTERS: 'ap-south-1, sa-east-1' }).decommissionDataCenters).toEqual(['ap-south-1', 'sa-east-1']);
    expect(settingsFromEnv(BASE).decommissionDataCenters).toEqual([]);
  });

  it('rejects an app role that is the superuser', () => {
    expect(problemsOf({ ...BASE, CASSANDRA_APP_USERNAME: 'chat-superuser' })).toEqual(['CASSANDRA_APP_USERNAME: must differ from CASSANDRA_SUPERUSER_USERNAME']);
  });

  it('never echoes a password in its problems', () => {
    const problems = problemsOf({ ...BASE, CASSANDRA_REPLICATION_FACTOR: 'x' });
    expect(problems.join('\n')).not.toContain('Secret');
  });
});

describe('run (bootstrap-cassandra command)', () => {
  it('throws EnvError for a bad environment (main turns it into exit code 2)', async () => {
    await expect(run([], { CASSANDRA_LOCAL_DC: 'dc1' })).rejects.toBeInstanceOf(EnvError);
  });

  it('refuses arguments', async () => {
    expect(await run(['--keyspace=x'], { ...BASE })).toBe(2);
  });
});

describe('helpers', () => {
  it('scrubs raw and CQL-escaped secrets from text', () => {
    const text = `line 1:70 mismatched input (...PASSWORD = 'it''s-secret' AND ...) it's-secret`;
    expect(scrubSecrets(text, ["it's-secret", ''])).toBe(`line 1:70 mismatched input (...PASSWORD = '***' AND ...) ***`);
  });

  it('derives stable, distinct table ids', () => {
    expect(tableId('chat', 'messages')).toBe(tableId('chat', 'messages'));
    expect(tableId('chat', 'messages')).not.toBe(tableId('chat', 'client_messages'));
    expect(tableId('chat', 'messages')).not.toBe(tableId('chat2', 'messages'));
    expect(tableId('chat', 'messages')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('names missing and down DCs in its error', () => {
    const e = new DataCentersNotReadyError(['ap-south-1'], ['eu-west-1'], 20);
    expect(e.message).toBe(
      'Cassandra datacenters not ready after 20 s (missing from the cluster: ap-south-1; no live node in: eu-west-1); nothing was changed (no keyspace, no role)',
    );
  });
});
