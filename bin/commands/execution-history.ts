import { GetExecutionHistoryCommand, HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';

/**
 * The newest events of an execution's history, newest first, read page by page (GetExecutionHistory with
 * reverseOrder and nextToken: Step Functions API Reference, GetExecutionHistory, "maxResults ... nextToken") until
 * `enough` says the events read so far hold what the caller needs, or the history ends. A long-running execution's
 * newest page may be all retries, waits and task events without a state's output (a Standard execution holds up to
 * 25,000 events: Step Functions Developer Guide, "Step Functions service quotas").
 */
export const HISTORY_PAGE = 200;

export async function newestHistory(ctx: { readonly sfn: SFNClient }, executionArn: string, enough: (newestFirst: readonly HistoryEvent[]) => boolean): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ctx.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: HISTORY_PAGE, includeExecutionData: true, nextToken }));
    events.push(...page.events ?? []);
    nextToken = page.nextToken;
  } while (nextToken && !enough(events));
  return events;
}

/** Enough to tell where an execution is: the newest state entered and the newest state output. */
export function hasStateAndOutput(newestFirst: readonly HistoryEvent[]): boolean {
  return newestFirst.some((e) => e.stateExitedEventDetails?.output) && newestFirst.some((e) => e.stateEnteredEventDetails);
}
