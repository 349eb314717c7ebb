import {
  Annotations, Duration, RemovalPolicy, Stack, Token, aws_certificatemanager as acm, aws_ec2 as ec2, aws_ecs as ecs,
  aws_iam as iam, aws_kms as kms, aws_secretsmanager as secretsmanager, aws_sns as sns,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConvexBackendServiceProps } from './convex-backend-service-props';
import { ConvexPostgres } from '../database/convex-postgres';
import { ConvexBackendVpc } from '../ecs/backend-vpc';
import { restrictStorageToNetwork } from '../ecs/convex-backend';
import { ConvexBackendTaskDefinition, DASHBOARD_PORT, backendInstanceName } from '../ecs/convex-backend-task-definition';
import { isImageDigest, DEFAULT_CONVEX_IMAGE_TAG, imageVersionProblems } from '../ecs/images';
import { AccessLogsBucket } from '../storage/access-logs-bucket';
import { AlarmTopic } from './alarm-topic';
import { ConvexDashboardService } from './convex-dashboard-service';
import { ConvexLoadBalancer } from './convex-load-balancer';
import { ConvexWebAcl, DEFAULT_RATE_LIMIT_PER_FIVE_MINUTES } from './convex-web-acl';
import { ServiceAlarms } from './service-alarms';
import {
  ServiceHosts, ServiceUrls, cidrProblems, emailProblems, hostNameProblems, httpsServiceUrls, isInZone,
  plainHttpServiceUrls, serviceHosts,
} from './service-endpoints';

/**
 * The self-hosted Convex backend as a running service, in one construct: a Fargate service with
 * exactly one task (deployments hand over, never two backends at once) in private subnets, an
 * Application Load Balancer with TLS 1.3 and the hosts of the API, the HTTP actions and the
 * dashboard, a certificate and DNS records, the backend's origins derived from those same hosts,
 * the dashboard as a service of its own without AWS access, a WAF web ACL and CloudWatch alarms.
 */
export class ConvexBackendService extends Construct implements ec2.IConnectable {
  /** The VPC of the service. */
  public readonly vpc: ec2.IVpc;
  /** The VPC created here, when none was given. */
  public readonly network?: ConvexBackendVpc;
  /** The cluster the tasks run on. */
  public readonly cluster: ecs.ICluster;
  /** The backend's task definition construct. */
  public readonly backend: ConvexBackendTaskDefinition;
  /** The backend's Fargate service (one task). */
  public readonly service: ecs.FargateService;
  /** The backend tasks' security group: allow your database or endpoints from it (or use {@link connections}). */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** The backend tasks' network connections (its security group). */
  public readonly connections: ec2.Connections;
  /** The role the backend runs with; it holds the storage's access policy. */
  public readonly taskRole: iam.IRole;
  /** The secret holding `INSTANCE_SECRET`. */
  public readonly instanceSecret: secretsmanager.ISecret;
  /** The load balancer, its listeners and target groups. */
  public readonly loadBalancer: ConvexLoadBalancer;
  /** The host names served, when a domain is used. */
  public readonly hosts?: ServiceHosts;
  /** `CONVEX_CLOUD_ORIGIN`: the public API URL, also `CONVEX_SELF_HOSTED_URL` for `npx convex deploy`. */
  public readonly apiUrl: string;
  /** `CONVEX_SITE_ORIGIN`: the public URL of the HTTP actions. */
  public readonly siteUrl: string;
  /** The dashboard's URL (served only when the dashboard runs). */
  public readonly dashboardUrl: string;
  /** The dashboard service, when it runs. */
  public readonly dashboard?: ConvexDashboardService;
  /** The web ACL, when on. */
  public readonly webAcl?: ConvexWebAcl;
  /** The alarms. */
  public readonly alarms: ServiceAlarms;
  /** The topic the alarms notify, if any. */
  public readonly alarmTopic?: sns.ITopic;
  /** The certificate of the HTTPS listener, when a domain is used. */
  public readonly certificate?: acm.ICertificate;
  /** The managed database, with `postgres`. */
  public readonly database?: ConvexPostgres;

  constructor(scope: Construct, id: string, props: ConvexBackendServiceProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const imageTag = props.imageTag ?? DEFAULT_CONVEX_IMAGE_TAG;
    const dashboardImageTag = props.dashboardImageTag ?? (isImageDigest(imageTag) ? undefined : imageTag);
    const dashboardRouted = props.dashboard === true && (props.publicDashboard === true || (props.dashboardAllowedCidrs?.length ?? 0) > 0);
    const hosts = this.validate(props, dashboardImageTag);
    this.hosts = hosts;
    this.warn(props, hosts, dashboardRouted);

    const { storage, vpc: givenVpc, cluster: givenCluster, hostedZone, alarmTopic, alarmEmail } = props;

    if (givenVpc) {
      this.vpc = givenVpc;
    } else {
      this.network = new ConvexBackendVpc(this, 'Network', {
        // Same rule as the task's log group: only a key whose policy this app writes.
        flowLogEncryptionKey: props.logEncryptionKey ?? (storage.encryptionKey instanceof kms.Key ? storage.encryptionKey : undefined),
        databaseSubnets: props.postgres !== undefined,
        removalPolicy,
      });
      this.vpc = this.network.vpc;
    }
    // Created before the task definition, which takes the database. Same construct IDs as
    // ConvexBackend's, so turning service=true on keeps the group and the database.
    this.securityGroup = new ec2.SecurityGroup(this, 'BackendSecurityGroup', {
      vpc: this.vpc,
      description: props.postgres ? 'Attach to the ECS service of the Convex backend: it may reach its database' : 'Convex backend tasks: inbound only from the load balancer',
      // Out: ghcr.io, S3, Secrets Manager, the database, and the backend's own public origin.
      allowAllOutbound: true,
    });
    if (props.postgres) {
      this.database = new ConvexPostgres(this, 'Database', {
        ...props.postgres,
        vpc: this.vpc,
        backendConnections: this.securityGroup,
        instanceName: backendInstanceName(props.instanceName, storage),
        encryptionKey: storage.encryptionKey,
        // A kept database is a final snapshot: a retained instance would run (and bill) on.
        removalPolicy: removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.SNAPSHOT,
      });
    }
    this.cluster = givenCluster ?? new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    const accessLogsBucket = storage.accessLogsBucket ?? new AccessLogsBucket(this, 'AccessLogs', { removalPolicy }).bucket;
    if (hosts) {
      const otherHosts = [hosts.siteHost, dashboardRouted ? hosts.dashboardHost : undefined].filter((h): h is string => h !== undefined);
      this.certificate = props.certificate ?? new acm.Certificate(this, 'Certificate', {
        domainName: hosts.apiHost,
        subjectAlternativeNames: otherHosts.length > 0 ? otherHosts : undefined,
        validation: acm.CertificateValidation.fromDns(hostedZone),
      });
    }
    this.loadBalancer = new ConvexLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      hosts,
      certificate: this.certificate,
      deletionProtection: props.deletionProtection ?? true,
      idleTimeout: props.idleTimeout ?? Duration.minutes(5),
      logsBucketAccessLogs: accessLogsBucket,
      removalPolicy,
    });
    const urls: ServiceUrls = hosts ? httpsServiceUrls(hosts) : plainHttpServiceUrls(this.loadBalancer.loadBalancer.loadBalancerDnsName, DASHBOARD_PORT);
    this.apiUrl = urls.apiUrl;
    this.siteUrl = urls.siteUrl;
    this.dashboardUrl = urls.dashboardUrl;

    this.backend = new ConvexBackendTaskDefinition(this, 'Backend', {
      ...taskDefinitionOptions(props),
      storage,
      database: this.database ?? props.database,
      // The VPC holds the SQLite volume; with a database there is none.
      vpc: this.database || props.database ? undefined : this.vpc,
      cloudOrigin: urls.apiUrl,
      siteOrigin: urls.siteUrl,
      // The dashboard runs apart, with a role of its own (see ConvexDashboardService).
      dashboard: false,
      // The container health check must not kill a task that is still migrating on first boot.
      healthCheckStartPeriod: props.healthCheckStartPeriod ?? Duration.seconds(300),
    });
    this.taskRole = this.backend.taskRole;
    this.instanceSecret = this.backend.instanceSecret;
    if (this.network) restrictStorageToNetwork(this, storage, this.taskRole, this.network);

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.backend.taskDefinition,
      // One backend, always: two would fight over the database lease or corrupt SQLite. A
      // deployment stops the old task before it starts the new one.
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: props.healthCheckGracePeriod ?? Duration.minutes(10),
      assignPublicIp: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    this.connections = this.service.connections;
    // NFS into the data volume from the tasks' group. Only the ingress side: the group already
    // allows all egress (allowClientsFrom would add an egress rule CDK then ignores, with a warning).
    for (const group of this.backend.dataVolume?.fileSystem.connections.securityGroups ?? []) {
      group.addIngressRule(this.securityGroup, ec2.Port.tcp(2049), 'NFS from the Convex backend service');
    }
    this.loadBalancer.routeBackend(this.service, this.backend.backendContainer.containerName);

    if (dashboardRouted && dashboardImageTag !== undefined) {
      this.dashboard = new ConvexDashboardService(this, 'Dashboard', {
        cluster: this.cluster,
        imageTag: dashboardImageTag,
        deploymentUrl: urls.apiUrl,
        logGroup: this.backend.logGroup,
        cpuArchitecture: props.cpuArchitecture,
      });
      this.loadBalancer.routeDashboard(this.dashboard.service, props.publicDashboard === true ? 'public' : props.dashboardAllowedCidrs ?? []);
    }

    if (props.waf ?? true) {
      this.webAcl = new ConvexWebAcl(this, 'Firewall', {
        loadBalancerArn: this.loadBalancer.loadBalancer.loadBalancerArn,
        rateLimitPerFiveMinutes: props.rateLimitPerFiveMinutes ?? DEFAULT_RATE_LIMIT_PER_FIVE_MINUTES,
        logEncryptionKey: props.logEncryptionKey ?? (storage.encryptionKey instanceof kms.Key ? storage.encryptionKey : undefined),
        logRetention: props.logRetention,
        removalPolicy,
      });
    }

    this.alarmTopic = alarmTopic ?? (alarmEmail === undefined ? undefined : new AlarmTopic(this, 'AlarmTopic', { email: alarmEmail }).topic);
    this.alarms = new ServiceAlarms(this, 'Alarms', {
      service: this.service,
      apiTargetGroup: this.loadBalancer.apiTargetGroup,
      topic: this.alarmTopic,
    });

    if (hosts && hostedZone) this.loadBalancer.addAliasRecords(hostedZone, hosts, dashboardRouted);
  }

  /** Checks the props; returns the hosts served, or undefined for plain HTTP without a domain. */
  private validate(props: ConvexBackendServiceProps, dashboardImageTag: string | undefined): ServiceHosts | undefined {
    const problems: string[] = [];
    const known = (value: string | undefined): value is string => value !== undefined && !Token.isUnresolved(value);
    const cidrs = props.dashboardAllowedCidrs ?? [];
    for (const cidr of cidrs) {
      if (known(cidr)) problems.push(...cidrProblems('dashboardAllowedCidrs', cidr));
    }
    if (props.publicDashboard && cidrs.length > 0) {
      problems.push('publicDashboard and dashboardAllowedCidrs are both set: a public dashboard is routed from anywhere. Drop one of them.');
    }
    if (!props.dashboard) {
      if (cidrs.length > 0) problems.push('dashboardAllowedCidrs is set but dashboard is off: set dashboard to true or drop dashboardAllowedCidrs.');
      if (props.publicDashboard) problems.push('publicDashboard is set but dashboard is off: set dashboard to true or drop publicDashboard.');
      if (props.dashboardImageTag !== undefined) problems.push('dashboardImageTag is set but dashboard is off: set dashboard to true or drop dashboardImageTag.');
    } else if (known(props.dashboardImageTag)) {
      // The task definition checks its own dashboard tag, but the service runs the dashboard apart.
      problems.push(...imageVersionProblems('dashboardImageTag', props.dashboardImageTag));
    } else if (dashboardImageTag === undefined) {
      problems.push(`dashboard is on and imageTag is the digest '${props.imageTag}', which names a backend image only: set dashboardImageTag to the dashboard's tag or digest of the same version.`);
    }
    if (props.siteOnApiHost && props.siteHost !== undefined) {
      problems.push('siteHost and siteOnApiHost are both set: with siteOnApiHost the HTTP actions are served on the API host under /http. Drop one of them.');
    }
    if (props.postgres && props.database) {
      problems.push('postgres and database are both set: postgres creates the backend\'s database, database names one of your own. Set one of them.');
    }
    if (props.postgres && props.ephemeralData) {
      problems.push('ephemeralData: the data lives in the database that postgres creates; drop ephemeralData.');
    }
    if (props.alarmEmail !== undefined && props.alarmTopic !== undefined) {
      problems.push('alarmEmail and alarmTopic are both set: subscribe the address to your topic, or drop alarmTopic to have one created.');
    }
    if (known(props.alarmEmail)) problems.push(...emailProblems('alarmEmail', props.alarmEmail));
    const rate = props.rateLimitPerFiveMinutes;
    if (rate !== undefined && (!Number.isInteger(rate) || rate < 10 || rate > 2_000_000_000)) {
      problems.push(`rateLimitPerFiveMinutes is ${rate}; WAF accepts whole numbers from 10 to 2,000,000,000.`);
    }
    if (props.waf === false && rate !== undefined) {
      problems.push('rateLimitPerFiveMinutes is set but waf is off: drop one of them.');
    }
    const idle = props.idleTimeout?.toSeconds();
    if (idle !== undefined && !Token.isUnresolved(idle) && (idle < 60 || idle > 4000)) {
      problems.push(`idleTimeout is ${idle} seconds; it must be at least 60 (the client reconnects a WebSocket after 60 s of silence) and the load balancer accepts at most 4000.`);
    }

    const named = serviceHosts(props);
    const anyHost = props.domainName !== undefined || props.apiHost !== undefined || props.siteHost !== undefined || props.dashboardHost !== undefined;
    const domain = anyHost || props.hostedZone !== undefined || props.certificate !== undefined;
    let hosts: ServiceHosts | undefined;
    if (domain) {
      const missing: string[] = [];
      if (named.apiHost === undefined) missing.push('apiHost');
      if (!props.siteOnApiHost && named.siteHost === undefined) missing.push('siteHost');
      if (props.dashboard && named.dashboardHost === undefined) missing.push('dashboardHost');
      if (missing.length > 0) {
        problems.push(`${missing.join(', ')} not known: set domainName (hosts default to api.<domainName>, site.<domainName>, dashboard.<domainName>) or set ${missing.join(' and ')}.`);
      }
      for (const [setting, value] of [['domainName', props.domainName], ['apiHost', named.apiHost], ['siteHost', named.siteHost], ['dashboardHost', props.dashboard ? named.dashboardHost : undefined]] as const) {
        if (known(value)) problems.push(...hostNameProblems(setting, value));
      }
      const served = [named.apiHost, named.siteHost, props.dashboard ? named.dashboardHost : undefined].filter(known);
      if (new Set(served).size !== served.length) {
        problems.push(`apiHost, siteHost and dashboardHost must differ (they are ${served.join(', ')}): the load balancer routes by host name. To serve HTTP actions on the API host, set siteOnApiHost.`);
      }
      if (!props.hostedZone && !props.certificate) {
        problems.push('host names are set but there is neither a hosted zone (a DNS-validated certificate and alias records) nor a certificate: give hostedZone, or certificate (and point the hosts at the load balancer yourself).');
      }
      const zoneName = props.hostedZone?.zoneName;
      if (known(zoneName)) {
        for (const host of served) {
          if (!isInZone(host, zoneName)) problems.push(`the host '${host}' is not in the hosted zone '${zoneName}': its certificate could not be validated nor its record created there. Use a host under ${zoneName}, or the zone that holds it.`);
        }
      }
      if (named.apiHost !== undefined) {
        hosts = { apiHost: named.apiHost, siteHost: named.siteHost, dashboardHost: named.dashboardHost ?? `dashboard.${named.apiHost}` };
      }
    }
    if (problems.length > 0) {
      throw new Error(`Invalid ConvexBackendService properties at ${this.node.path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    return hosts;
  }

  private warn(props: ConvexBackendServiceProps, hosts: ServiceHosts | undefined, dashboardRouted: boolean): void {
    const annotations = Annotations.of(this);
    if (!hosts) {
      annotations.addWarningV2('cdk-convex-storage:service-plain-http', `No domain: the backend is served over plain HTTP on the load balancer's own DNS name (API on port 80, HTTP actions under /http, dashboard on port ${DASHBOARD_PORT}). Admin keys and data cross the network unencrypted, and browsers on HTTPS pages cannot use it: for trials only. Set domainName with hostedZoneId and hostedZoneName (or certificateArn) for HTTPS.`);
    }
    if (props.dashboard && !dashboardRouted) {
      annotations.addWarningV2('cdk-convex-storage:dashboard-not-routed', 'dashboard is on but neither dashboardAllowedCidrs nor publicDashboard is set: the dashboard is not routed, so it is not run. Set dashboardAllowedCidrs to the addresses you open it from (e.g. 203.0.113.7/32).');
    }
    if (props.publicDashboard) {
      annotations.addWarningV2('cdk-convex-storage:public-dashboard', 'publicDashboard: the dashboard is routed from anywhere and relies on the admin key alone. Prefer dashboardAllowedCidrs.');
    }
    if (props.cluster && !hasContainerInsights(props.cluster)) {
      annotations.addWarningV2('cdk-convex-storage:container-insights', 'The NoRunningTask alarm reads Container Insights\' RunningTaskCount: turn Container Insights on for your cluster, or the alarm stays in ALARM.');
    }
  }
}

/** Whether `cluster` is a cluster of this app with Container Insights on (an imported one cannot be told). */
function hasContainerInsights(cluster: ecs.ICluster): boolean {
  const resource = cluster.node.defaultChild;
  if (!(resource instanceof ecs.CfnCluster)) return false;
  const settings = Stack.of(cluster).resolve(resource.clusterSettings) as Array<{ name?: string; value?: string }> | undefined;
  return (settings ?? []).some((s) => s.name === 'containerInsights' && (s.value === 'enabled' || s.value === 'enhanced'));
}

/** The props only the service reads; the rest go to the task definition. */
const SERVICE_ONLY_PROPS = [
  'storage', 'vpc', 'cluster', 'hostedZone', 'certificate', 'dashboard', 'dashboardImageTag', 'dashboardAllowedCidrs', 'publicDashboard', 'waf',
  'rateLimitPerFiveMinutes', 'alarmEmail', 'alarmTopic', 'deletionProtection', 'healthCheckGracePeriod', 'idleTimeout', 'domainName', 'apiHost',
  'siteHost', 'dashboardHost', 'siteOnApiHost', 'postgres', 'database',
] as const;

function taskDefinitionOptions(props: ConvexBackendServiceProps): Omit<ConvexBackendServiceProps, typeof SERVICE_ONLY_PROPS[number]> {
  const options: Record<string, unknown> = { ...props };
  for (const key of SERVICE_ONLY_PROPS) delete options[key];
  return options as Omit<ConvexBackendServiceProps, typeof SERVICE_ONLY_PROPS[number]>;
}
