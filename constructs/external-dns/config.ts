/**
 * `routing.externalDns` (provider externalDns) and `regions[].routing`: external-dns in every
 * active region writes the chat names into a Route53 hosted zone, one record per region with
 * its set identifier, latency or geolocation routing and an optional Route53 health check.
 * The slice itself is composed in constructs/k8gb/config.ts (`routing:`).
 */
import { z } from 'zod';
import { dnsSubdomain, exactVersion, helmRepoUrl } from '../../regions/fields.js';

const awsRegion = z.string().regex(/^[a-z]{2}(-[a-z]+)+-[0-9]$/, { message: 'is not an AWS region (e.g. "eu-central-1")' });

export const ExternalDnsSchema = z
  .strictObject({
    chart: z
      .strictObject({
        repoURL: helmRepoUrl.default('https://kubernetes-sigs.github.io/external-dns/'),
        version: exactVersion.default('1.21.1'),
      })
      .prefault({})
      .describe('The `external-dns` Helm chart (kubernetes-sigs), pinned.'),
    namespace: dnsSubdomain('namespace').default('external-dns'),
    hostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{1,31}$/, { message: 'is not a Route53 hosted zone id (e.g. "Z0123456789ABCDEFGHIJ")' })
      .describe('The Route53 public hosted zone of `endpoint.domain` (external-dns only touches it: --zone-id-filter).'),
    awsRegion: awsRegion.describe('AWS region of the Route53 API calls (AWS_DEFAULT_REGION).'),
    credentialsSecret: dnsSubdomain('Secret name').describe(
      'Secret in the external-dns namespace of every region with keys `access-key-id` and `secret-access-key` (route53:ChangeResourceRecordSets on the zone, route53:ListHostedZones, route53:ListResourceRecordSets). SECRETS.md lists it.',
    ),
    policy: z
      .enum(['latency', 'geolocation'])
      .default('latency')
      .describe('latency: Route53 answers with the region of the lowest latency to the resolver (regions[].routing.awsRegion). geolocation: by the resolver\'s (or client subnet\'s) location (regions[].routing.geolocation).'),
    intervalSeconds: z.int().min(10).max(3600).default(60).describe('Seconds between external-dns syncs (`interval`).'),
  })
  .describe('external-dns with Route53 in every active region (provider externalDns).');

const GeolocationSchema = z
  .strictObject({
    continentCode: z.enum(['AF', 'AN', 'AS', 'EU', 'OC', 'NA', 'SA']).optional().describe('Route53 continent code.'),
    countryCode: z
      .string()
      .regex(/^([A-Z]{2}|\*)$/, { message: 'is not an ISO 3166 alpha-2 country code or "*" (e.g. "DE")' })
      .optional()
      .describe('ISO 3166 alpha-2 country code; "*" is Route53\'s default location (every resolver no other record matches).'),
    subdivisionCode: z.string().regex(/^[A-Z0-9]{1,3}$/, { message: 'is not a subdivision code (e.g. "CA")' }).optional().describe('US state / subdivision, with countryCode.'),
  })
  .describe('The one location whose users this region serves (one Route53 geolocation record per region).');

export const RegionRoutingSchema = z
  .strictObject({
    awsRegion: awsRegion.optional().describe('externalDns latency policy: the AWS region closest to this cluster (annotation aws-region).'),
    geolocation: GeolocationSchema.optional(),
    healthCheckId: z
      .string()
      .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, { message: 'is not a Route53 health check id (a UUID)' })
      .optional()
      .describe('externalDns: the Route53 health check of this region (e.g. HTTPS GET https://chat.<region>.<domain>/readyz); Route53 stops answering with an unhealthy region.'),
  })
  .describe('This region\'s global routing settings (provider externalDns).');

export type ExternalDnsConfig = z.output<typeof ExternalDnsSchema>;
export type RegionRoutingConfig = z.output<typeof RegionRoutingSchema>;
