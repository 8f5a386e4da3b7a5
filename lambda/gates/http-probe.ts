/**
 * How the HTTP gates send a request: one request, its status and how long it took. Production uses Node's own
 * http/https modules (no dependency); the rehearsal swaps in answers of the simulated service
 * (setHttpTransport), routed by the fake load balancer exactly as the real one would route the request.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { performance } from 'node:perf_hooks';

export interface ProbeRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Give up (and report no answer) after this many milliseconds. */
  readonly timeoutMs: number;
}

/** An answer, or why there was none. */
export interface ProbeResponse {
  /** HTTP status; absent when no answer came (timeout, connection refused...). */
  readonly status?: number;
  /** Milliseconds from sending to the end of the answer (or to the failure). */
  readonly latencyMs: number;
  /** Why no answer came ("no answer within 500 ms", "ECONNREFUSED"...). */
  readonly error?: string;
}

export interface HttpTransport {
  send(request: ProbeRequest): Promise<ProbeResponse>;
}

/** Node's http/https: the answer's body is read to its end (latency is time to the last byte) and discarded. */
export const nodeTransport: HttpTransport = {
  send: (request) => new Promise<ProbeResponse>((resolve) => {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      resolve({ latencyMs: 0, error: `invalid URL ${request.url}` });
      return;
    }
    const client = url.protocol === 'https:' ? https : http;
    let settled = false;
    const settle = (response: ProbeResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(response);
    };
    const req = client.request(url, { method: request.method, headers: { ...request.headers, 'user-agent': 'cdk-zero-downtime-gate' }, agent: false }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => settle({ status: res.statusCode, latencyMs: elapsed() }));
      res.on('error', (err) => settle({ status: res.statusCode, latencyMs: elapsed(), error: err.message }));
    });
    // A deadline for the whole exchange (connect, headers, body), not an idle timeout.
    const timer = setTimeout(() => {
      settle({ latencyMs: elapsed(), error: `no answer within ${request.timeoutMs} ms` });
      req.destroy();
    }, request.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => settle({ latencyMs: elapsed(), error: err.code ?? err.message }));
    req.end();
  }),
};

let current: HttpTransport = nodeTransport;

export function httpTransport(): HttpTransport {
  return current;
}

/** Replace the transport (rehearsal). Returns a function that restores the previous one. */
export function setHttpTransport(next: HttpTransport): () => void {
  const previous = current;
  current = next;
  return () => { current = previous; };
}
