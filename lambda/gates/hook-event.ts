/** What every gate does with the TrafficHookEvent it receives, and how it words its result. */
import { Color, isColor, TrafficHookEvent, TrafficHookResult } from '../shared/contracts';

/** The test route of the event, or a failed result saying why the gate cannot run. */
export function checkHookEvent(event: TrafficHookEvent, gate: string): { readonly header: string; readonly value: Color; readonly stable: Color } | TrafficHookResult {
  if (!event || typeof event !== 'object' || !isColor(event.targetColor) || !isColor(event.stableColor)) {
    return failed(gate, `expected a traffic hook event with targetColor and stableColor "blue" or "green", got ${JSON.stringify(event)}`);
  }
  if (!event.testRoute || typeof event.testRoute.header !== 'string' || event.testRoute.header === '') {
    return failed(gate, 'the event carries no test route (BlueGreenRouting testRoute is off): the gate cannot reach the new color alone');
  }
  return { header: event.testRoute.header, value: event.targetColor, stable: event.stableColor };
}

/** "<gate> failed: <why>" */
export function failed(gate: string, why: string): TrafficHookResult {
  return { status: 'Failed', reason: `${gate} failed: ${why}` };
}

export function succeeded(gate: string, what: string): TrafficHookResult {
  return { status: 'Succeeded', reason: `${gate} passed: ${what}` };
}

/** base + path, with exactly one "/" between them. */
export function endpointUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
