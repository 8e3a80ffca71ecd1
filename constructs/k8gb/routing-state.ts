/**
 * The STATE.json section `routing` (written by whichever routing component is enabled) and the
 * danger rules on it: a region leaving DNS while it serves users, an owner id that changes (the
 * new owner never touches the old one's records), a provider switch.
 */
import type { PlatformConfig } from '../../regions/schema.js';
import type { DangerousChange, DangerRule } from '../component.js';
import { sectionOf } from '../danger-rules.js';
import { externalDnsOwnerId } from '../external-dns/names.js';
import { routedRegions } from './k8gb-values.js';
import { k8gbTxtOwnerId } from './names.js';

export const ROUTING_STATE_KEY = 'routing';

export interface RoutingState {
  readonly provider: 'k8gb' | 'externalDns';
  /** Regions whose addresses the chat names resolve to (the active ones), in ordinal order. */
  readonly routed: readonly string[];
  /** External-dns owner id (txtOwnerId) per routed region. */
  readonly owners: Readonly<Record<string, string>>;
}

/** The routing section of `c`'s state; undefined without routing. */
export function routingState(c: PlatformConfig): RoutingState | undefined {
  const r = c.routing;
  if (!r) return undefined;
  const routed = routedRegions(c);
  const owner = r.provider === 'k8gb' ? (name: string) => k8gbTxtOwnerId(c, { name }) : (name: string) => externalDnsOwnerId(c, { name });
  return { provider: r.provider, routed: routed.map((x) => x.name), owners: Object.fromEntries(routed.map((x) => [x.name, owner(x.name)])) };
}

const stateOf = (s: Parameters<DangerRule>[0]) => sectionOf<RoutingState | undefined>(s, ROUTING_STATE_KEY);

/** `remove-routing:<region>`: a region whose names resolved to it no longer does. */
export const removeRoutingRule: DangerRule = (base, next) => {
  const [b, n] = [stateOf(base), stateOf(next)];
  if (!b) return [];
  const still = new Set(n?.routed ?? []);
  return b.routed
    .filter((name) => !still.has(name))
    .map(
      (name): DangerousChange => ({
        id: `remove-routing:${name}`,
        message: `region ${name} leaves global routing while it may still serve users: new connections stop reaching it once the records change (reconcile + TTL, about a minute) and cached answers expire; its open WebSockets stay until they close or its backend stops. Drain it first (README "Global routing")`,
      }),
    );
};

/** `change-dns-owner:<region>:<old>-><new>`: records written under the old owner id are orphaned. */
export const ownerChangeRule: DangerRule = (base, next) => {
  const [b, n] = [stateOf(base), stateOf(next)];
  if (!b || !n || b.provider !== n.provider) return [];
  return Object.entries(n.owners).flatMap(([name, owner]): DangerousChange[] => {
    const old = b.owners[name];
    return old !== undefined && old !== owner
      ? [{ id: `change-dns-owner:${name}:${old}->${owner}`, message: `external-dns in ${name} writes as "${owner}" and never updates or deletes the records "${old}" owns: they stay in the zone until removed by hand` }]
      : [];
  });
};

/** `change-routing-provider:<old>-><new>`: the old provider's records are left behind. */
export const providerChangeRule: DangerRule = (base, next) => {
  const [b, n] = [stateOf(base), stateOf(next)];
  if (!b || !n || b.provider === n.provider) return [];
  return [
    {
      id: `change-routing-provider:${b.provider}->${n.provider}`,
      message: `${n.provider} starts publishing the chat names while ${b.provider}'s records (and, for k8gb, the zone delegation) stay until removed by hand: both answer for a while, and the removed regions' controllers are no longer managed`,
    },
  ];
};

export const ROUTING_DANGER_RULES: readonly DangerRule[] = [removeRoutingRule, ownerChangeRule, providerChangeRule];
