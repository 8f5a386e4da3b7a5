import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Color, METRIC_NAMESPACE, MetricDimension, TRAFFIC_WEIGHT_METRIC } from '../../lambda/shared/contracts';

/** A per-period count the rollout state machine publishes (Rollbacks, RollbackFailures), dimension Service. */
export function rolloutMetric(serviceName: string, metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName,
    dimensionsMap: { [MetricDimension.SERVICE]: serviceName },
    statistic: 'Sum',
    ...props,
  });
}

/** The production weight of `color` in percent, as the router publishes it. */
export function trafficWeightMetric(serviceName: string, color: Color, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName: TRAFFIC_WEIGHT_METRIC,
    dimensionsMap: { [MetricDimension.SERVICE]: serviceName, [MetricDimension.COLOR]: color },
    statistic: 'Maximum',
    period: Duration.minutes(1),
    unit: cloudwatch.Unit.PERCENT,
    ...props,
  });
}
