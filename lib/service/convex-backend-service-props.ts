import { Duration, aws_certificatemanager as acm, aws_ec2 as ec2, aws_ecs as ecs, aws_route53 as route53, aws_s3 as s3, aws_sns as sns } from 'aws-cdk-lib';
import { ConvexPostgresOptions } from '../database/convex-postgres';
import { ConvexBackendStorage, ConvexBackendTaskDefinitionProps } from '../ecs/convex-backend-task-definition-props';
import { ServiceHostSettings } from './service-endpoints';

/** The storage of a service: a `ConvexStorage`, whose access-log bucket also takes the load balancer log bucket's logs. */
export interface ConvexServiceStorage extends ConvexBackendStorage {
  /**
   * Bucket for S3 server access logs (a `ConvexStorage` has one).
   *
   * @default - the service creates an access-log bucket of its own
   */
  readonly accessLogsBucket?: s3.IBucket;
}

/** Properties of {@link ConvexBackendService}. */
export interface ConvexBackendServiceProps
  extends Omit<ConvexBackendTaskDefinitionProps, 'storage' | 'cloudOrigin' | 'siteOrigin' | 'vpc' | 'dataVolumeSubnets' | 'dashboard' | 'dashboardImageTag'>, ServiceHostSettings {
  /** The S3 storage the backend uses (a `ConvexStorage`). */
  readonly storage: ConvexServiceStorage;

  /**
   * The VPC: the load balancer goes into its public subnets, the tasks (and the SQLite data
   * volume) into its private subnets with egress (the image is pulled from ghcr.io).
   *
   * @default - a {@link ConvexBackendVpc}
   */
  readonly vpc?: ec2.IVpc;

  /**
   * A managed RDS for PostgreSQL database for the backend, in isolated subnets of the VPC,
   * reachable only from the backend's security group (see `ConvexPostgres`). Excludes `database`.
   *
   * @default - `database` if given, else SQLite on an encrypted EFS volume
   */
  readonly postgres?: ConvexPostgresOptions;

  /**
   * The ECS cluster the tasks run on; it must be in `vpc`. The no-running-task alarm reads
   * Container Insights, so turn that on for your cluster.
   *
   * @default - a cluster with Container Insights
   */
  readonly cluster?: ecs.ICluster;

  /**
   * The Route 53 public hosted zone of the hosts: a DNS-validated certificate is requested for
   * them and alias records point them at the load balancer. Import it with
   * `HostedZone.fromHostedZoneAttributes` (no lookup needed).
   *
   * @default - no records; give `certificate` and point the hosts at the load balancer yourself
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * A certificate (in the stack's region) that covers every host.
   *
   * @default - a DNS-validated certificate in `hostedZone`; without a zone either, plain HTTP on
   * the load balancer's own DNS name (trials only, with a warning)
   */
  readonly certificate?: acm.ICertificate;

  /**
   * Run the dashboard (`ghcr.io/get-convex/convex-dashboard`) as a service of its own, with a task
   * role that holds no AWS access, on `dashboardHost`.
   *
   * @default false
   */
  readonly dashboard?: boolean;

  /**
   * Version of the dashboard image; keep it on the backend's version.
   *
   * @default - the backend's `imageTag` (required when that is a digest)
   */
  readonly dashboardImageTag?: string;

  /**
   * CIDR blocks the dashboard is reachable from. Without them (and without `publicDashboard`)
   * the dashboard is not routed at all, and not run.
   *
   * @default - none
   */
  readonly dashboardAllowedCidrs?: string[];

  /**
   * Route the dashboard from anywhere. It then relies on the admin key alone (synth warning).
   *
   * @default false
   */
  readonly publicDashboard?: boolean;

  /**
   * Put a WAF web ACL ({@link ConvexWebAcl}) on the load balancer.
   *
   * @default true
   */
  readonly waf?: boolean;

  /**
   * The web ACL's per-IP limit of requests in any 5-minute window.
   *
   * @default 6000
   */
  readonly rateLimitPerFiveMinutes?: number;

  /**
   * E-mail address the alarms notify, through an SNS topic created here (the address must
   * confirm the subscription).
   *
   * @default - no topic, unless `alarmTopic` is given
   */
  readonly alarmEmail?: string;

  /**
   * Your SNS topic for the alarms.
   *
   * @default - a topic when `alarmEmail` is given, else none
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Deletion protection of the load balancer: it must be turned off (a deploy with `false`)
   * before the stack can be deleted.
   *
   * @default true
   */
  readonly deletionProtection?: boolean;

  /**
   * How long ECS ignores failed load balancer health checks of a starting task: the first boot
   * runs the database migrations.
   *
   * @default Duration.minutes(10)
   */
  readonly healthCheckGracePeriod?: Duration;

  /**
   * Idle timeout of the load balancer's connections. WebSockets carry a ping every 5 seconds;
   * some API requests of `npx convex deploy` send nothing back until they are done.
   *
   * @default Duration.minutes(5)
   */
  readonly idleTimeout?: Duration;
}
