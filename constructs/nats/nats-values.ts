/**
 * Values for the official `nats` chart (1.x/2.x layout) for one region. Everything the
 * chart would otherwise default is set here on purpose: names, probes (via the monitor
 * port), security context, resources, pull policy, config-checksum rollouts.
 */
import { Labels, NATS_FULLNAME, NatsEnv, natsRegionNames, SecretNames } from '../../regions/names.js';
import type { PlatformConfig, Region } from '../../regions/schema.js';
import { helmResources, RESTRICTED_CONTAINER } from '../workload.js';
import { envReference, gatewayMergeBlock } from './gateway.js';

/** Where the chart mounts `config.gateway.tls.secretName`. */
export const GATEWAY_CERT_DIR = '/etc/nats-certs/gateway';

/** UID/GID the NATS containers run as (the images do not need root). */
export const NATS_RUN_AS = 1000;


const restrictedPod = {
  runAsNonRoot: true,
  runAsUser: NATS_RUN_AS,
  runAsGroup: NATS_RUN_AS,
  fsGroup: NATS_RUN_AS,
  fsGroupChangePolicy: 'OnRootMismatch',
  seccompProfile: { type: 'RuntimeDefault' },
};

function secretEnv(secret: string, key: string) {
  return { valueFrom: { secretKeyRef: { name: secret, key } } };
}


/** The values file for `region` (written to `values/<cluster>/nats.yaml`). */
export function natsValues(c: PlatformConfig, region: Region): Record<string, unknown> {
  const nats = c.nats;
  const names = natsRegionNames(c, region);
  const gw = nats.gateway;
  const clientAuthEnv = {
    [NatsEnv.clientUser]: secretEnv(SecretNames.natsClientAuth, 'user'),
    [NatsEnv.clientPassword]: secretEnv(SecretNames.natsClientAuth, 'password'),
  };

  const gateway: Record<string, unknown> = {
    enabled: true,
    port: gw.port,
    merge: gatewayMergeBlock(c, region),
  };
  if (gw.tls.enabled) {
    gateway['tls'] = {
      enabled: true,
      secretName: SecretNames.natsGatewayTls,
      // Gateway TLS is always mutual; every region's cert chains to the same CA.
      merge: { ca_file: `${GATEWAY_CERT_DIR}/ca.crt`, timeout: 3 },
    };
  }

  const values: Record<string, unknown> = {
    fullnameOverride: NATS_FULLNAME,
    global: {
      image: { pullPolicy: 'IfNotPresent' },
      labels: { [Labels.partOf]: c.platform, [Labels.region]: region.name },
    },
    config: {
      serverNamePrefix: names.serverNamePrefix,
      cluster: {
        enabled: true,
        replicas: nats.replicas,
        port: 6222,
        // Cluster and gateway names must be equal or nats-server refuses to start.
        merge: { name: names.gatewayName },
      },
      gateway,
      jetstream: nats.jetstream.enabled
        ? {
            enabled: true,
            fileStore: {
              enabled: true,
              dir: '/data',
              pvc: { enabled: true, size: nats.jetstream.fileStoreSize, storageClassName: c.storageClass },
            },
            memoryStore: { enabled: true, maxSize: nats.jetstream.memoryStoreSize },
          }
        : { enabled: false },
      monitor: { enabled: true, port: nats.monitorPort },
      // Client authorization (the gateway has its own block above).
      merge: {
        authorization: {
          user: envReference(NatsEnv.clientUser),
          password: envReference(NatsEnv.clientPassword),
        },
      },
    },
    container: {
      image: { repository: nats.image.repository, tag: nats.image.tag, pullPolicy: 'IfNotPresent' },
      env: {
        ...clientAuthEnv,
        [NatsEnv.gatewayUser]: secretEnv(SecretNames.natsGatewayAuth, 'user'),
        [NatsEnv.gatewayPassword]: secretEnv(SecretNames.natsGatewayAuth, 'password'),
      },
      resources: { requests: { cpu: nats.resources.cpu, memory: nats.resources.memory }, limits: { memory: nats.resources.memory } },
      merge: { securityContext: RESTRICTED_CONTAINER },
    },
    // The reloader would SIGHUP nats-server on every ConfigMap change; nats-server refuses to
    // reload a gateway change and logs the old and new gateway options, credentials included.
    // Config changes roll the pods instead (configChecksumAnnotation), so the reloader only
    // watches the gateway certificates, and only runs when there are certificates to rotate.
    reloader:
      nats.reloader && gw.tls.enabled
        ? {
            enabled: true,
            natsVolumeMountPrefixes: [GATEWAY_CERT_DIR],
            merge: { securityContext: RESTRICTED_CONTAINER, resources: helmResources('10m', '32Mi') },
            patch: [
              {
                op: 'replace',
                path: '/args',
                value: ['-pid', '/var/run/nats/nats.pid', ...['tls.crt', 'tls.key', 'ca.crt'].flatMap((f) => ['-config', `${GATEWAY_CERT_DIR}/${f}`])],
              },
            ],
          }
        : { enabled: false },
    promExporter: {
      enabled: nats.promExporter.enabled,
      ...(nats.promExporter.enabled
        ? {
            podMonitor: { enabled: nats.promExporter.podMonitor },
            merge: { securityContext: RESTRICTED_CONTAINER, resources: helmResources('10m', '64Mi') },
          }
        : {}),
    },
    podTemplate: {
      // A gateway-list change is never hot-reloaded by nats-server: roll the pods instead.
      configChecksumAnnotation: true,
      topologySpreadConstraints: {
        'kubernetes.io/hostname': { maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' },
      },
      merge: { spec: { securityContext: restrictedPod } },
    },
    service: {
      enabled: true,
      ports: {
        nats: { enabled: true },
        leafnodes: { enabled: false },
        websocket: { enabled: false },
        mqtt: { enabled: false },
        cluster: { enabled: false },
        gateway: { enabled: false },
        monitor: { enabled: false },
        profiling: { enabled: false },
      },
    },
    podDisruptionBudget: { enabled: true },
    natsBox: nats.natsBox
      ? {
          enabled: true,
          container: {
            image: { pullPolicy: 'IfNotPresent' },
            // The nats CLI reads NATS_USER/NATS_PASSWORD; HOME on the writable /tmp.
            env: { ...clientAuthEnv, HOME: '/tmp', XDG_CONFIG_HOME: '/tmp/.config' },
            merge: { securityContext: RESTRICTED_CONTAINER, resources: helmResources('10m', '64Mi') },
            patch: [{ op: 'add', path: '/volumeMounts/-', value: { name: 'tmp', mountPath: '/tmp' } }],
          },
          podTemplate: {
            merge: { spec: { securityContext: restrictedPod } },
            patch: [{ op: 'add', path: '/spec/volumes/-', value: { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } } }],
          },
        }
      : { enabled: false },
    extraResources: gw.exposure === 'loadBalancer' ? [gatewayLoadBalancerService(c, region)] : [],
  };
  return values;
}

/** The gateway-only LoadBalancer Service: exposes 7222-style gateway traffic, never the client port. */
function gatewayLoadBalancerService(c: PlatformConfig, region: Region): Record<string, unknown> {
  const names = natsRegionNames(c, region);
  const lb = c.nats.gateway.loadBalancer;
  const annotations: Record<string, string> = { ...(lb?.annotations ?? {}) };
  if (lb?.hostnameSuffix) annotations['external-dns.alpha.kubernetes.io/hostname'] = names.gatewayHost;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: names.gatewayService,
      labels: { [Labels.partOf]: c.platform, [Labels.region]: region.name },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Cluster',
      selector: { $tplYaml: '{{ include "nats.selectorLabels" $ }}' },
      ports: [{ name: 'gateway', port: c.nats.gateway.port, targetPort: 'gateway', protocol: 'TCP' }],
      ...(lb && lb.sourceRanges.length > 0 ? { loadBalancerSourceRanges: [...lb.sourceRanges] } : {}),
    },
  };
}
