import { PutMetricDataCommand, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { cloudWatch } from '../shared/clients';
import { clock } from '../shared/clock';
import { COLORS, METRIC_NAMESPACE, MetricDimension, RouterConfig, TRAFFIC_WEIGHT_METRIC, Weights } from '../shared/contracts';
import { awsCall } from '../shared/errors';
import { log } from '../shared/log';


/**
 * Publishes the live weights, one TrafficWeight datapoint per color (dimensions Service and Color, unit Percent),
 * stamped with the handlers' clock. Does nothing without `metrics` in the router's configuration.
 *
 * Best effort: the weights are already written and verified when this runs, so a failed PutMetricData is logged
 * and swallowed. A shift or a rollback never fails because a dashboard could not be fed.
 */
export async function publishTrafficWeights(metrics: RouterConfig['metrics'], weights: Weights): Promise<void> {
  if (!metrics) return;
  const timestamp = new Date(clock().now());
  try {
    await awsCall(`PutMetricData(${METRIC_NAMESPACE}/${TRAFFIC_WEIGHT_METRIC}, ${metrics.service})`, () => cloudWatch().send(new PutMetricDataCommand({
      Namespace: METRIC_NAMESPACE,
      MetricData: COLORS.map((color) => ({
        MetricName: TRAFFIC_WEIGHT_METRIC,
        Dimensions: [
          { Name: MetricDimension.SERVICE, Value: metrics.service },
          { Name: MetricDimension.COLOR, Value: color },
        ],
        Value: weights[color],
        Unit: StandardUnit.Percent,
        Timestamp: timestamp,
      })),
    })));
  } catch (err) {
    log('warn', 'could not publish the traffic weights; the route itself is in place and verified', {
      service: metrics.service, weights, error: (err as Error).message,
    });
  }
}
