import {
  Duration, aws_cloudwatch as cloudwatch, aws_cloudwatch_actions as actions, aws_ecs as ecs, aws_elasticloadbalancingv2 as elbv2,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceRule } from '../compliance';

/** What an alarm definition reads its metric from. */
export interface AlarmSources {
  /** The backend's ECS service. */
  readonly service: ecs.FargateService;
  /** The target group of the API port. */
  readonly apiTargetGroup: elbv2.ApplicationTargetGroup;
}

/** One alarm of the backend service, as data. */
export interface ServiceAlarmDefinition {
  /** Construct ID of the alarm. */
  readonly id: string;
  /** What it means when it fires, and what to look at. */
  readonly description: string;
  /** The metric, over `period`. */
  readonly metric: (sources: AlarmSources, period: Duration) => cloudwatch.IMetric;
  /** Length of one evaluation period. */
  readonly period: Duration;
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: cloudwatch.TreatMissingData;
}

const MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * The alarms every backend service gets. Thresholds are for one task: the backend never runs
 * more than one.
 */
export const SERVICE_ALARMS: readonly ServiceAlarmDefinition[] = [
  {
    id: 'NoRunningTask',
    description: 'No Convex backend task has been running for 5 minutes (Container Insights RunningTaskCount): the deployment is down. Check the service\'s events and the backend log group (failed start, migrations, out of memory).',
    metric: ({ service }, period) => new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
      statistic: cloudwatch.Stats.MAXIMUM,
      period,
    }),
    period: MINUTE,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    threshold: 1,
    evaluationPeriods: 5,
    datapointsToAlarm: 5,
    // No data points means no task reports: that is the case this alarm is for.
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  },
  {
    id: 'UnhealthyTargets',
    description: 'The load balancer finds the backend unhealthy (GET /version on port 3210 fails) for 5 minutes: clients cannot connect. Check the backend log group.',
    metric: ({ apiTargetGroup }, period) => apiTargetGroup.metrics.unhealthyHostCount({ statistic: cloudwatch.Stats.MAXIMUM, period }),
    period: MINUTE,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    threshold: 1,
    evaluationPeriods: 5,
    datapointsToAlarm: 5,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  },
  {
    id: 'Target5xx',
    description: 'The backend answered 10 or more requests with a 5xx status in each of two 5-minute periods: look for errors in the backend log group (storage access, database, out of memory).',
    metric: ({ apiTargetGroup }, period) => apiTargetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: cloudwatch.Stats.SUM, period }),
    period: FIVE_MINUTES,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    threshold: 10,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  },
  {
    id: 'MemoryHigh',
    description: 'The backend task has used more than 85 % of its memory for 15 minutes: out-of-memory restarts follow. Raise the task memory (context memory).',
    metric: ({ service }, period) => service.metricMemoryUtilization({ statistic: cloudwatch.Stats.MAXIMUM, period }),
    period: FIVE_MINUTES,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold: 85,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  },
  {
    id: 'CpuHigh',
    description: 'The backend task has used more than 85 % of its CPU for 15 minutes: requests slow down. Raise the task CPU (context cpu).',
    metric: ({ service }, period) => service.metricCpuUtilization({ statistic: cloudwatch.Stats.AVERAGE, period }),
    period: FIVE_MINUTES,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold: 85,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  },
];

/** Properties of {@link ServiceAlarms}. */
export interface ServiceAlarmsProps extends AlarmSources {
  /**
   * Topic every alarm notifies when it fires and when it recovers.
   *
   * @default - no notifications (the alarms are visible in the CloudWatch console)
   */
  readonly topic?: sns.ITopic;
}

/** The CloudWatch alarms of {@link SERVICE_ALARMS} for one backend service. */
export class ServiceAlarms extends Construct {
  /** The alarms by ID. */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const alarms: Record<string, cloudwatch.Alarm> = {};
    for (const definition of SERVICE_ALARMS) {
      const alarm = new cloudwatch.Alarm(this, definition.id, {
        alarmDescription: definition.description,
        metric: definition.metric(props, definition.period),
        comparisonOperator: definition.comparisonOperator,
        threshold: definition.threshold,
        evaluationPeriods: definition.evaluationPeriods,
        datapointsToAlarm: definition.datapointsToAlarm,
        treatMissingData: definition.treatMissingData,
      });
      if (props.topic) {
        const action = new actions.SnsAction(props.topic);
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      } else {
        acknowledgeComplianceRule(alarm, 'CloudWatchAlarmAction', 'No notification target was given (alarmEmail or alarmTopic): the alarm still changes state, visible in the CloudWatch console and to any EventBridge rule on alarm state changes. Setting alarmEmail adds an encrypted SNS topic that every alarm notifies.');
      }
      alarms[definition.id] = alarm;
    }
    this.alarms = alarms;
  }
}
