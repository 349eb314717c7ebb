import {
  Duration, RemovalPolicy, Validations, aws_certificatemanager as acm, aws_ec2 as ec2, aws_ecs as ecs,
  aws_elasticloadbalancingv2 as elbv2, aws_route53 as route53, aws_route53_targets as targets, aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceRule } from '../compliance';
import { BACKEND_API_PORT, BACKEND_SITE_PORT, DASHBOARD_PORT } from '../ecs/convex-backend-task-definition';
import { LoadBalancerLogsBucket } from './load-balancer-logs-bucket';
import { ServiceHosts } from './service-endpoints';

/**
 * The TLS policy of the HTTPS listener: TLS 1.3 and 1.2 with the restricted cipher suites (no
 * AES-CBC) and post-quantum hybrid key exchange, AWS's recommended policy for new listeners
 * (aws-cdk-lib `SslPolicy.TLS13_12_RES_PQ`). TLS 1.2 stays for clients without 1.3.
 */
export const LOAD_BALANCER_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09' as elbv2.SslPolicy;

/** Paths of the backend's metrics endpoint, refused at the load balancer. */
export const METRICS_PATHS = ['/metrics', '/metrics/*'];

/** The load balancer's access logs prefix in its log bucket. */
const ACCESS_LOG_PREFIX = 'load-balancer';

/** Largest number of source CIDRs in one listener rule: a rule holds 5 condition values, one is the host. */
const CIDRS_PER_RULE = 4;

/** Rule priorities of the listeners, in evaluation order. */
const PRIORITY = { refuseMetrics: 10, api: 20, site: 30, dashboard: 40 } as const;

/** Properties of {@link ConvexLoadBalancer}. */
export interface ConvexLoadBalancerProps {
  /** The VPC; the load balancer goes into its public subnets. */
  readonly vpc: ec2.IVpc;
  /** Bucket for the S3 server access logs of the load balancer's log bucket. */
  readonly logsBucketAccessLogs: s3.IBucket;

  /**
   * The hosts to route by.
   *
   * @default - plain HTTP on the load balancer's DNS name: port 80 for the API, the dashboard's own port
   */
  readonly hosts?: ServiceHosts;

  /**
   * The certificate of the HTTPS listener; required with `hosts`.
   *
   * @default - none (plain HTTP)
   */
  readonly certificate?: acm.ICertificate;

  /**
   * Deletion protection.
   *
   * @default true
   */
  readonly deletionProtection?: boolean;

  /**
   * Idle timeout of connections.
   *
   * @default Duration.minutes(5)
   */
  readonly idleTimeout?: Duration;

  /**
   * What happens to the log bucket when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The internet-facing Application Load Balancer of a Convex backend service: TLS 1.3, HTTP
 * redirected to HTTPS, invalid header fields dropped, access logs, deletion protection, and a
 * listener rule per host. Requests for `/metrics` on the API host are refused with 403.
 */
export class ConvexLoadBalancer extends Construct {
  /** The load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** Its security group. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The listener that serves the backend: HTTPS on 443, or HTTP on 80 without a domain. */
  public readonly listener: elbv2.ApplicationListener;
  /** The bucket of its access logs. */
  public readonly logsBucket: LoadBalancerLogsBucket;
  /** The target group of the API port (3210). */
  public readonly apiTargetGroup: elbv2.ApplicationTargetGroup;
  /** The target group of the HTTP actions port (3211), when they have a host of their own. */
  public readonly siteTargetGroup?: elbv2.ApplicationTargetGroup;
  /** The target group of the dashboard, when it is routed. */
  public dashboardTargetGroup?: elbv2.ApplicationTargetGroup;

  private readonly vpc: ec2.IVpc;
  private readonly hosts?: ServiceHosts;

  constructor(scope: Construct, id: string, props: ConvexLoadBalancerProps) {
    super(scope, id);
    this.vpc = props.vpc;
    this.hosts = props.hosts;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Convex backend load balancer: HTTPS (and HTTP for the redirect) from anywhere; out only to the tasks',
      allowAllOutbound: false,
    });
    Validations.of(this.securityGroup).acknowledge({ id: 'AwsSolutions-EC23', reason: 'An internet-facing load balancer for the Convex API, whose clients are browsers and apps anywhere: it accepts 443 (and 80, which only redirects to 443) from any IPv4 address. The dashboard is routed only from its allowed CIDRs by listener rules; the tasks accept traffic only from this group.' });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      internetFacing: true,
      securityGroup: this.securityGroup,
      deletionProtection: props.deletionProtection ?? true,
      dropInvalidHeaderFields: true,
      idleTimeout: props.idleTimeout ?? Duration.minutes(5),
      http2Enabled: true,
    });
    if (props.deletionProtection === false) {
      acknowledgeComplianceRule(this.loadBalancer, 'ELBDeletionProtectionEnabled', 'Deletion protection was turned off on purpose (deletionProtection false) for a throw-away stage, so that deleting the stack deletes the load balancer. It holds no data: the backend\'s data is in the storage, the database or the data volume, all retained.');
    }

    this.logsBucket = new LoadBalancerLogsBucket(this, 'Logs', {
      serverAccessLogsBucket: props.logsBucketAccessLogs,
      removalPolicy: props.removalPolicy,
    });
    this.logsBucket.allowLogDelivery(ACCESS_LOG_PREFIX);
    this.loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
    this.loadBalancer.setAttribute('access_logs.s3.bucket', this.logsBucket.bucket.bucketName);
    this.loadBalancer.setAttribute('access_logs.s3.prefix', ACCESS_LOG_PREFIX);
    // ELB checks that it may write to the bucket when the attribute is set.
    this.loadBalancer.node.addDependency(this.logsBucket.bucket.policy!);

    if (props.hosts) {
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: props.certificate ? [elbv2.ListenerCertificate.fromCertificateManager(props.certificate)] : [],
        sslPolicy: LOAD_BALANCER_SSL_POLICY,
        open: true,
        defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Unknown host' }),
      });
      const redirect = this.loadBalancer.addRedirect({ sourcePort: 80, sourceProtocol: elbv2.ApplicationProtocol.HTTP, targetPort: 443, targetProtocol: elbv2.ApplicationProtocol.HTTPS });
      acknowledgeComplianceRule(redirect, 'ELBv2ACMCertificateRequired', 'This port-80 listener serves nothing: its only action redirects every request to HTTPS on 443 (status 301), whose listener uses the ACM certificate. A redirect listener cannot carry a certificate.');
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: true,
        defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Not found' }),
      });
      this.acknowledgePlainHttp(this.listener);
    }
    this.listener.addAction('RefuseMetrics', {
      priority: PRIORITY.refuseMetrics,
      conditions: [...this.hostCondition(props.hosts?.apiHost), elbv2.ListenerCondition.pathPatterns(METRICS_PATHS)],
      action: elbv2.ListenerAction.fixedResponse(403, { contentType: 'text/plain', messageBody: 'Forbidden' }),
    });

    this.apiTargetGroup = this.targetGroup('ApiTargets', BACKEND_API_PORT, '/version');
    this.listener.addTargetGroups('Api', {
      priority: PRIORITY.api,
      conditions: props.hosts ? this.hostCondition(props.hosts.apiHost) : [elbv2.ListenerCondition.pathPatterns(['/*'])],
      targetGroups: [this.apiTargetGroup],
    });
    if (props.hosts?.siteHost !== undefined) {
      // The site port answers 404 on `/`, and it is the same process: check the API port.
      this.siteTargetGroup = this.targetGroup('SiteTargets', BACKEND_SITE_PORT, '/version', String(BACKEND_API_PORT));
      this.listener.addTargetGroups('Site', {
        priority: PRIORITY.site,
        conditions: this.hostCondition(props.hosts.siteHost),
        targetGroups: [this.siteTargetGroup],
      });
    }
  }

  /** Registers the backend's container ports with the target groups. */
  public routeBackend(service: ecs.FargateService, containerName: string): void {
    this.apiTargetGroup.addTarget(service.loadBalancerTarget({ containerName, containerPort: BACKEND_API_PORT }));
    this.siteTargetGroup?.addTarget(service.loadBalancerTarget({ containerName, containerPort: BACKEND_SITE_PORT }));
  }

  /**
   * Routes the dashboard host (or, without a domain, a listener on the dashboard's port) to
   * `service`, from `allowed` CIDR blocks only, or from anywhere with `'public'`.
   */
  public routeDashboard(service: ecs.FargateService, allowed: readonly string[] | 'public'): void {
    const targetGroup = this.targetGroup('DashboardTargets', DASHBOARD_PORT, '/');
    targetGroup.addTarget(service.loadBalancerTarget({ containerName: service.taskDefinition.defaultContainer!.containerName, containerPort: DASHBOARD_PORT }));
    this.dashboardTargetGroup = targetGroup;
    let listener = this.listener;
    let host = this.hosts?.dashboardHost;
    if (!this.hosts) {
      listener = this.loadBalancer.addListener('DashboardHttp', {
        port: DASHBOARD_PORT,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: elbv2.ListenerAction.fixedResponse(403, { contentType: 'text/plain', messageBody: 'Forbidden' }),
      });
      this.acknowledgePlainHttp(listener);
      const peers = allowed === 'public' ? [ec2.Peer.anyIpv4()] : allowed.map((cidr) => (cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr)));
      for (const peer of peers) listener.connections.allowFrom(peer, ec2.Port.tcp(DASHBOARD_PORT), 'Convex dashboard');
      host = undefined;
    }
    const chunks = allowed === 'public' ? [undefined] : chunk(allowed, CIDRS_PER_RULE);
    chunks.forEach((cidrs, index) => {
      const conditions = [...this.hostCondition(host), ...(cidrs ? [elbv2.ListenerCondition.sourceIps(cidrs)] : [])];
      listener.addTargetGroups(`Dashboard${index}`, {
        priority: PRIORITY.dashboard + index,
        conditions: conditions.length > 0 ? conditions : [elbv2.ListenerCondition.pathPatterns(['/*'])],
        targetGroups: [targetGroup],
      });
    });
  }

  /** Alias records of the hosts in `zone`, pointing at the load balancer. */
  public addAliasRecords(zone: route53.IHostedZone, hosts: ServiceHosts, dashboard: boolean): void {
    const records: Array<[string, string | undefined]> = [['ApiRecord', hosts.apiHost], ['SiteRecord', hosts.siteHost], ['DashboardRecord', dashboard ? hosts.dashboardHost : undefined]];
    for (const [id, host] of records) {
      if (host === undefined) continue;
      new route53.ARecord(this, id, {
        zone,
        recordName: `${host}.`,
        target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(this.loadBalancer)),
      });
    }
  }

  private hostCondition(host: string | undefined): elbv2.ListenerCondition[] {
    return host === undefined ? [] : [elbv2.ListenerCondition.hostHeaders([host])];
  }

  private targetGroup(id: string, port: number, healthCheckPath: string, healthCheckPort?: string): elbv2.ApplicationTargetGroup {
    return new elbv2.ApplicationTargetGroup(this, id, {
      vpc: this.vpc,
      port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      // One task: a deployment waits for the old task to drain before it starts the new one.
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: healthCheckPath,
        port: healthCheckPort ?? 'traffic-port',
        healthyHttpCodes: healthCheckPath === '/' ? '200-399' : '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
  }

  private acknowledgePlainHttp(listener: elbv2.ApplicationListener): void {
    const reason = 'No domain was given: the backend is served over plain HTTP on the load balancer\'s DNS name, for trials only, and synth warns about it. With domainName (and a hosted zone or certificate) the listener is HTTPS with TLS 1.3 and port 80 only redirects.';
    for (const rule of ['ALBHttpToHttpsRedirection', 'ELBTlsHttpsListenersOnly', 'ELBACMCertificateRequired', 'ELBv2ACMCertificateRequired']) {
      acknowledgeComplianceRule(listener, rule, reason);
      acknowledgeComplianceRule(this.loadBalancer, rule, reason);
    }
  }
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
