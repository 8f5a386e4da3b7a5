/** Where the library's EventBridge events come from. */
export class ZeroDowntimeEventSource {
  /**
   * `source` of every event the library puts on EventBridge (rollouts, migrations, database switchovers): match
   * on it in an event pattern together with a `detail-type` from RolloutEvent, MigrationEvent or BlueGreenEvent.
   */
  public static readonly NAME = 'cdk-zero-downtime';

  private constructor() {}
}
