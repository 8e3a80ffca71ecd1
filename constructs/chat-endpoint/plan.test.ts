/**
 * What `npm run plan` says about the public endpoint when a region joins, becomes active and
 * leaves (DNS-01, so every active region serves every active pinned name).
 */
import { describe, expect, it } from 'vitest';
import { computePlan } from '../../charts/plan.js';
import { renderDist } from '../../charts/render.js';
import type { PlatformConfig, PlatformConfigInput } from '../../regions/schema.js';
import { configFrom, inputWithRegions } from '../../test/helpers.js';

const DOMAIN = 'chat-test.example.org';

function config(states: ReadonlyArray<'active' | 'joining' | 'leaving'>): PlatformConfig {
  const input: PlatformConfigInput = inputWithRegions(states.length);
  delete input.routing; // its zone is the default config's domain
  input.endpoint = { domain: DOMAIN, className: 'eg', acme: { email: 'ops@example.org', solver: 'dns01', dns01: { provider: 'cloudflare', credentialsSecret: 'cf' } } };
  input.regions = input.regions.map((r, i) => ({ ...r, state: states[i]!, ...(states[i] === 'joining' ? { syncFrom: 'r1' } : {}) }));
  return configFrom(input);
}

/** The endpoint's files and effects of the plan base -> next, per Application. */
function endpointPlan(base: PlatformConfig, next: PlatformConfig) {
  const plan = computePlan(renderDist(base), renderDist(next), next);
  return new Map(
    plan.applications
      .filter((a) => a.application.includes('-chat-endpoint-'))
      .map((a) => [a.application, { status: a.status, added: a.added, changed: a.changed, removed: a.removed, effects: a.effects }]),
  );
}

describe('plan of the public endpoint', () => {
  it('a joining region changes no endpoint; it gets its own once active, and the others start serving its pinned name', () => {
    expect(endpointPlan(config(['active', 'active']), config(['active', 'active', 'joining']))).toEqual(new Map());

    const p = endpointPlan(config(['active', 'active', 'joining']), config(['active', 'active', 'active']));
    expect(p.get('astring-chat-endpoint-r3')!.status).toBe('added');
    for (const old of ['r1', 'r2']) {
      const a = p.get(`astring-chat-endpoint-${old}`)!;
      expect(a.added).toEqual([`clusters/astring-${old}/chat-endpoint/httproute-chat-r3.yaml`]);
      expect([...a.changed].sort()).toEqual([`clusters/astring-${old}/chat-endpoint/certificate-chat-peers.yaml`, `clusters/astring-${old}/chat-endpoint/gateway-chat.yaml`]);
      expect(a.effects).toContain(`HTTPRoute chat-r3 in astring-${old} opens the region to new WebSocket connections at chat.r3.${DOMAIN} (once its certificate is issued and DNS points here)`);
      expect(a.effects.find((e) => e.startsWith('cert-manager orders a certificate for'))).toContain(`chat.r3.${DOMAIN}`);
    }
  });

  it('a leaving region loses its routes, Gateway and certificates (ClusterIssuer stays); the others stop serving its name', () => {
    const p = endpointPlan(config(['active', 'active', 'active']), config(['active', 'active', 'leaving']));
    const leaving = p.get('astring-chat-endpoint-r3')!;
    expect(leaving.status).toBe('changed');
    expect(leaving.removed.map((f) => f.replace(/^.*\//, '')).sort()).toEqual([
      'certificate-chat-peers.yaml',
      'certificate-chat.yaml',
      'gateway-chat.yaml',
      'httproute-chat-r1.yaml',
      'httproute-chat-r2.yaml',
      'httproute-chat-r3.yaml',
      'httproute-chat.yaml',
    ]);
    expect(leaving.effects).toContain('Gateway chat in astring-r3 is removed with its load balancer: every socket through it is cut');
    for (const old of ['r1', 'r2']) {
      const a = p.get(`astring-chat-endpoint-${old}`)!;
      expect(a.removed).toEqual([`clusters/astring-${old}/chat-endpoint/httproute-chat-r3.yaml`]);
      expect(a.effects).toContain(`HTTPRoute chat-r3 in astring-${old} is removed: sockets through it are cut and their clients reconnect to another region; route users away first`);
    }
  });
});
