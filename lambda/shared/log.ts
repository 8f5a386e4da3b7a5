/**
 * Structured JSON logs, one line per event, so CloudWatch Logs Insights can query them.
 * ZDT_LOG_LEVEL=silent turns them off (tests, rehearsal).
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

function enabled(level: Level): boolean {
  const configured = (process.env.ZDT_LOG_LEVEL ?? 'info') as Level | 'silent';
  return ORDER[level] >= (ORDER[configured] ?? ORDER.info);
}

export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  if (!enabled(level)) return;
  const line = JSON.stringify({ level, message, ...fields });
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
}
