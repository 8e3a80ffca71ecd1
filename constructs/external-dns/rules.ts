/** Cross-field rules of `routing.externalDns` and `regions[].routing` (composed in constructs/k8gb/config.ts). */
import { rule, type PlatformConfig, type PlatformRule, type PlatformRuleViolation } from '../../regions/schema.js';

type Geo = { continentCode?: string | undefined; countryCode?: string | undefined; subdivisionCode?: string | undefined };

/** The Route53 location of a geolocation entry, as one comparable string. */
export function geolocationKey(g: Geo): string {
  return g.continentCode ? `continent:${g.continentCode}` : `country:${g.countryCode}${g.subdivisionCode ? `/${g.subdivisionCode}` : ''}`;
}

/** Every active region has what its policy needs; per-region settings only where they are used. */
function regionViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const e = c.routing?.provider === 'externalDns' ? c.routing.externalDns : undefined;
  const v: PlatformRuleViolation[] = [];
  c.regions.forEach((r, i) => {
    const rr = r.routing;
    const at = (...p: Array<string | number>) => ['regions', i, 'routing', ...p];
    if (!e) {
      if (rr) v.push({ path: at(), message: 'regions[].routing is only used with routing.provider externalDns (remove it)' });
      return;
    }
    if (e.policy === 'latency') {
      if (!rr?.awsRegion && r.state === 'active') v.push({ path: at('awsRegion'), message: `latency routing needs the AWS region closest to region ${r.name} (add routing: {awsRegion: <e.g. eu-central-1>})` });
      if (rr?.geolocation) v.push({ path: at('geolocation'), message: 'routing.externalDns.policy is latency, so geolocation is unused (remove it, or set policy: geolocation)' });
    } else {
      if (rr?.awsRegion) v.push({ path: at('awsRegion'), message: 'routing.externalDns.policy is geolocation, so awsRegion is unused (remove it, or set policy: latency)' });
      const g = rr?.geolocation;
      if (!g && r.state === 'active') v.push({ path: at('geolocation'), message: `geolocation routing needs the location region ${r.name} serves (add routing: {geolocation: {continentCode: EU}} or {countryCode: "*"} for the default)` });
      if (g) {
        const kinds = [g.continentCode, g.countryCode].filter((x) => x !== undefined).length;
        if (kinds !== 1) v.push({ path: at('geolocation'), message: 'give exactly one of continentCode or countryCode' });
        if (g.subdivisionCode && (!g.countryCode || g.countryCode === '*')) v.push({ path: at('geolocation', 'subdivisionCode'), message: 'subdivisionCode needs a countryCode (e.g. countryCode: US)' });
      }
    }
  });
  return v;
}

/** Geolocation: distinct locations, and exactly one active default ("*") so no resolver gets an empty answer. */
function geolocationSetViolations(c: PlatformConfig): PlatformRuleViolation[] {
  const e = c.routing?.provider === 'externalDns' ? c.routing.externalDns : undefined;
  if (!e || e.policy !== 'geolocation') return [];
  const v: PlatformRuleViolation[] = [];
  const seen = new Map<string, string>();
  c.regions.forEach((r, i) => {
    const g = r.routing?.geolocation;
    if (!g || r.state !== 'active') return;
    const key = geolocationKey(g);
    const first = seen.get(key);
    if (first) v.push({ path: ['regions', i, 'routing', 'geolocation'], message: `region ${first} already serves ${key} (Route53 allows one record per location)` });
    else seen.set(key, r.name);
  });
  const defaults = c.regions.filter((r) => r.state === 'active' && r.routing?.geolocation?.countryCode === '*');
  if (defaults.length !== 1) {
    v.push({
      path: ['routing', 'externalDns', 'policy'],
      message: `geolocation routing needs exactly one active region with countryCode "*" (Route53's default location: resolvers no other record matches get no answer otherwise), got ${defaults.length}${defaults.length ? ` (${defaults.map((r) => r.name).join(', ')})` : ''}`,
    });
  }
  return v;
}

export const externalDnsRules: readonly PlatformRule[] = [
  rule('external-dns-regions', ['regions'], regionViolations),
  rule('external-dns-geolocations', ['routing', 'externalDns', 'policy'], geolocationSetViolations),
];
