/** app.loginCodes, app.limits, app.health and the top-level `lab`: defaults, and located, fixable errors. */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../platform-config.js';
import { ConfigError } from '../../regions/load.js';
import type { PlatformConfigInput } from '../../regions/schema.js';
import { inputWithRegions } from '../../test/helpers.js';
import { HEALTH_DEFAULTS } from '../../app/chat/health.js';
import { DEFAULTS as CHAT_DEFAULTS } from '../../app/chat/settings.js';

function load(mutate: (c: PlatformConfigInput) => void) {
  const input = inputWithRegions(2);
  mutate(input);
  return parseConfig(stringify(input), 'app.yaml');
}

function problems(mutate: (c: PlatformConfigInput) => void): string[] {
  try {
    load(mutate);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  return [];
}

/** True when one line is located in app.yaml and matches `expected`. */
function hasLocated(lines: string[], expected: RegExp): boolean {
  return lines.some((l) => /^app\.yaml:\d+:\d+ /.test(l) && expected.test(l));
}

describe('app.loginCodes', () => {
  it('reads the bundled smtp block; lab defaults to false', () => {
    const c = load(() => {});
    expect(c.lab).toBe(false);
    expect(c.app.loginCodes).toEqual({
      sender: 'smtp',
      smtp: { host: 'smtp.example.com', port: 587, tls: 'starttls', from: 'Chat <no-reply@example.com>', credentialsSecret: 'chat-smtp-credentials' },
    });
  });

  it('defaults the smtp TLS mode to starttls and the webhook timeout to 5 s', () => {
    expect(load((c) => void (c.app.loginCodes = { sender: 'smtp', smtp: { host: 'relay.mail.svc', from: 'a@example.com' } })).app.loginCodes.smtp).toEqual({
      host: 'relay.mail.svc',
      tls: 'starttls',
      from: 'a@example.com',
    });
    expect(load((c) => void (c.app.loginCodes = { sender: 'webhook', webhook: { secret: 'chat-login-webhook' } })).app.loginCodes.webhook).toEqual({
      secret: 'chat-login-webhook',
      timeoutSeconds: 5,
    });
  });

  it.each<[string, (c: PlatformConfigInput) => void, RegExp]>([
    ['no loginCodes at all', (c) => void delete (c.app as { loginCodes?: unknown }).loginCodes, /app\.loginCodes: required field is missing/],
    ['smtp without its block', (c) => void (c.app.loginCodes = { sender: 'smtp' }), /app\.loginCodes: .*sender is smtp but there is no smtp block|app\.loginCodes\.smtp: sender is smtp but there is no smtp block/],
    ['webhook without its block', (c) => void (c.app.loginCodes = { sender: 'webhook' }), /sender is webhook but there is no webhook block \(add webhook: \{secret: <Secret name>\}\)/],
    ['an unused block', (c) => void (c.app.loginCodes = { sender: 'webhook', webhook: { secret: 'hook' }, smtp: { host: 'h', from: 'a@b.example' } }), /app\.loginCodes\.smtp: sender is webhook, so this smtp block is unused \(remove it, or set sender: smtp\)/],
    ['log outside a lab', (c) => void (c.app.loginCodes = { sender: 'log' }), /app\.loginCodes\.sender: the log sender only logs that a code was issued.*set `lab: true` at the top of the file/],
    ['an unknown sender', (c) => void (c.app.loginCodes = { sender: 'sms' as 'smtp' }), /app\.loginCodes\.sender: must be one of "smtp", "webhook", "log", got "sms"/],
    ['a password over no TLS', (c) => void (c.app.loginCodes!.smtp!.tls = 'none'), /app\.loginCodes\.smtp\.tls: tls none would send the SMTP password in clear text/],
    ['a bad From address', (c) => void (c.app.loginCodes!.smtp!.from = 'no-reply'), /app\.loginCodes\.smtp\.from: "no-reply" is not a From address/],
    ['a Secret name that is not one', (c) => void (c.app.loginCodes!.smtp!.credentialsSecret = 'Chat_SMTP'), /app\.loginCodes\.smtp\.credentialsSecret: "Chat_SMTP" Secret name is not a DNS subdomain/],
    ['a webhook timeout over a minute', (c) => void (c.app.loginCodes = { sender: 'webhook', webhook: { secret: 'hook', timeoutSeconds: 120 } }), /app\.loginCodes\.webhook\.timeoutSeconds/],
  ])('refuses %s, saying where and how to fix it', (_name, mutate, expected) => {
    const lines = problems(mutate);
    expect(lines.some((l) => expected.test(l)), lines.join('\n')).toBe(true);
  });

  it('locates the cross-field errors at their line', () => {
    expect(hasLocated(problems((c) => void (c.app.loginCodes = { sender: 'log' })), /app\.loginCodes\.sender: the log sender/)).toBe(true);
  });

  it('takes log on a platform marked lab: true', () => {
    const c = load((c) => {
      (c as { lab?: boolean }).lab = true;
      c.app.loginCodes = { sender: 'log' };
    });
    expect(c.lab).toBe(true);
    expect(c.app.loginCodes).toEqual({ sender: 'log' });
  });
});

describe('app.limits', () => {
  it('has the documented defaults when omitted', () => {
    const c = load((c) => void delete (c.app as { limits?: unknown }).limits);
    expect(c.app.limits).toEqual({
      authTimeoutSeconds: 10,
      handshakeTimeoutSeconds: 10,
      maxConnectionsPerAddress: 64,
      maxConnectionsPerUser: 8,
      trustedProxies: [],
      ratePerSecond: 50,
      rateBurst: 100,
    });
  });

  it('takes trusted proxies as IPs and CIDRs, v4 and v6', () => {
    const c = load((c) => void (c.app.limits = { trustedProxies: ['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1'] }));
    expect(c.app.limits.trustedProxies).toEqual(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']);
  });

  it.each<[string, (c: PlatformConfigInput) => void, RegExp]>([
    ['a proxy that is no IP', (c) => void (c.app.limits = { trustedProxies: ['10.0.0.0/8', 'ingress-nginx'] }), /app\.limits\.trustedProxies\[1\]: "ingress-nginx" is not an IP address or CIDR range/],
    ['a prefix too long', (c) => void (c.app.limits = { trustedProxies: ['10.0.0.0/33'] }), /app\.limits\.trustedProxies\[0\]: "10\.0\.0\.0\/33" is not an IP address or CIDR range/],
    ['a burst below the rate', (c) => void (c.app.limits = { ratePerSecond: 80, rateBurst: 40 }), /app\.limits\.rateBurst: rateBurst 40 is below ratePerSecond 80 .*raise rateBurst/],
    ['a zero auth deadline', (c) => void (c.app.limits = { authTimeoutSeconds: 0 }), /app\.limits\.authTimeoutSeconds/],
    ['an unknown key', (c) => void (c.app.limits = { maxConnectionsPerIp: 5 } as never), /app\.limits/],
  ])('refuses %s', (_name, mutate, expected) => {
    const lines = problems(mutate);
    expect(lines.some((l) => expected.test(l)), lines.join('\n')).toBe(true);
  });
});

describe('app.health', () => {
  it('has the documented defaults when omitted, the ones platform.yaml writes out and the backend assumes', () => {
    const omitted = load((c) => void delete (c.app as { health?: unknown }).health);
    const expected = { intervalSeconds: 2, timeoutSeconds: 2, failuresBeforeUnready: 3, successesBeforeReady: 2 };
    expect(omitted.app.health).toEqual(expected);
    expect(load(() => {}).app.health).toEqual(expected);
    expect(HEALTH_DEFAULTS).toEqual({
      intervalMs: expected.intervalSeconds * 1000,
      timeoutMs: expected.timeoutSeconds * 1000,
      failuresBeforeUnready: expected.failuresBeforeUnready,
      successesBeforeReady: expected.successesBeforeReady,
    });
  });

  it.each<[string, (c: PlatformConfigInput) => void, RegExp]>([
    ['a check bound above the interval', (c) => void (c.app.health = { intervalSeconds: 2, timeoutSeconds: 5 }), /app\.health\.timeoutSeconds: timeoutSeconds 5 is above intervalSeconds 2 .*lower timeoutSeconds or raise intervalSeconds/],
    ['zero rounds before unready', (c) => void (c.app.health = { failuresBeforeUnready: 0 }), /app\.health\.failuresBeforeUnready/],
    ['a fractional interval', (c) => void (c.app.health = { intervalSeconds: 1.5 }), /app\.health\.intervalSeconds/],
    ['an unknown key', (c) => void (c.app.health = { periodSeconds: 5 } as never), /app\.health/],
  ])('refuses %s', (_name, mutate, expected) => {
    const lines = problems(mutate);
    expect(lines.some((l) => expected.test(l)), lines.join('\n')).toBe(true);
  });
});

describe('app.writeMinIntervalMs', () => {
  it('defaults to what the backend assumes when the variable is unset', () => {
    expect(load((c) => void delete (c.app as { writeMinIntervalMs?: unknown }).writeMinIntervalMs).app.writeMinIntervalMs).toBe(CHAT_DEFAULTS.writeMinIntervalMs);
  });

  it.each<[string, number, RegExp]>([
    ['a negative interval', -1, /app\.writeMinIntervalMs/],
    ['more than a second', 1_001, /app\.writeMinIntervalMs/],
    ['a fractional interval', 2.5, /app\.writeMinIntervalMs/],
  ])('refuses %s', (_name, value, expected) => {
    const lines = problems((c) => void (c.app.writeMinIntervalMs = value));
    expect(lines.some((l) => expected.test(l)), lines.join('\n')).toBe(true);
  });
});
