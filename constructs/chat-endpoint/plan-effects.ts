/** What a change of the public endpoint's objects does, for `npm run plan`. */
import type { DistObject, EffectsOf } from '../component.js';
import { same } from '../plan-effects.js';

const hostsOf = (o: DistObject | undefined): string[] =>
  (o?.['kind'] === 'Ingress' ? (o['spec']?.rules ?? []).map((r: DistObject) => r['host']) : (o?.['spec']?.hostnames ?? [])) as string[];

/** HTTPRoute or Ingress `chat`: the route that makes the region reachable under its hostnames. */
export const routeEffects: EffectsOf = ({ cluster, before: b, after: a }) => {
  const what = `${(a ?? b)!['kind']} ${(a ?? b)!['metadata'].name}`;
  if (!b) return [`${what} in ${cluster} opens the region to new WebSocket connections at ${hostsOf(a).join(', ')} (once its certificate is issued and DNS points here)`];
  if (!a) return [`${what} in ${cluster} is removed: sockets through it are cut and their clients reconnect to another region; route users away first`];
  const [hb, ha] = [hostsOf(b), hostsOf(a)];
  if (!same(hb, ha)) return [`${what} in ${cluster} answers ${ha.join(', ')} instead of ${hb.join(', ')}: clients of a dropped name are cut`];
  return [`${what} in ${cluster} changes in place; the proxy reloads, open sockets normally stay`];
};

/** Gateway `chat`: its listeners (and load balancer) come and go with it. */
export const gatewayEffects: EffectsOf = ({ cluster, before: b, after: a }) => {
  if (!b) return [`Gateway ${a!['metadata'].name} in ${cluster} is created: its class provisions a listener (usually a load balancer) on 443${(a!['spec']?.listeners ?? []).some((l: DistObject) => l['port'] === 80) ? ' and 80 (ACME HTTP-01 only)' : ''}`];
  if (!a) return [`Gateway ${b['metadata'].name} in ${cluster} is removed with its load balancer: every socket through it is cut`];
  if (b['spec']?.gatewayClassName !== a['spec']?.gatewayClassName) {
    return [`Gateway ${a['metadata'].name} in ${cluster} moves to class ${a['spec']?.gatewayClassName}: it is rebuilt (new address; DNS must follow), sockets are cut`];
  }
  return [`Gateway ${a['metadata'].name} in ${cluster} changes its listeners in place`];
};

/** Certificate `chat`: a new order at the ACME CA when its names change. */
export const certificateEffects: EffectsOf = ({ cluster, before: b, after: a }) => {
  if (!a) return [`Certificate ${b!['metadata'].name} in ${cluster} is removed; its Secret stays until deleted by hand`];
  const names = (o: DistObject | undefined) => (o?.['spec']?.dnsNames ?? []) as string[];
  if (!b || !same(names(b), names(a))) return [`cert-manager orders a certificate for ${names(a).join(', ')} in ${cluster} from ${a['spec']?.issuerRef?.name}`];
  return [`Certificate ${a['metadata'].name} in ${cluster} changes; cert-manager reissues it when its spec no longer matches the Secret`];
};

/** ClusterIssuer `<platform>-acme`. */
export const clusterIssuerEffects: EffectsOf = ({ cluster, before: b, after: a }) => {
  if (!b) return [`ACME ClusterIssuer ${a!['metadata'].name} in ${cluster} registers an account at ${a!['spec']?.acme?.server}`];
  if (!a) return [`ACME ClusterIssuer ${b['metadata'].name} in ${cluster} is removed: its certificates are no longer renewed`];
  const server = (o: DistObject) => o['spec']?.acme?.server;
  if (server(b) !== server(a)) return [`ACME ClusterIssuer ${a['metadata'].name} in ${cluster} moves to ${server(a)}: existing certificates stay until renewal`];
  return [`ACME ClusterIssuer ${a['metadata'].name} in ${cluster}: solver or contact changes, used from the next order`];
};
