import { matchesError, RetryPolicy } from '../../rehearsal';

describe('RetryPolicy', () => {
  test('applies the specification\'s defaults: 1 s, backoff 2, 3 attempts', () => {
    const policy = new RetryPolicy([{ ErrorEquals: ['Busy'] }]);
    expect([1, 2, 3, 4].map(() => policy.nextDelayMs('Busy')?.delayMs)).toEqual([1000, 2000, 4000, undefined]);
  });

  test('lets the first matching retrier decide, even when its attempts are used up', () => {
    const policy = new RetryPolicy([{ ErrorEquals: ['Busy'], MaxAttempts: 1 }, { ErrorEquals: ['States.ALL'], MaxAttempts: 5 }]);
    expect(policy.nextDelayMs('Busy')).toMatchObject({ retrierIndex: 0, attempt: 1 });
    expect(policy.nextDelayMs('Busy')).toBeUndefined();
    expect(policy.nextDelayMs('Other')).toMatchObject({ retrierIndex: 1 });
  });

  test('does not retry an error no retrier names', () => {
    expect(new RetryPolicy([{ ErrorEquals: ['Busy'] }]).nextDelayMs('Broken')).toBeUndefined();
    expect(new RetryPolicy([{ ErrorEquals: ['Busy'], MaxAttempts: 0 }]).nextDelayMs('Busy')).toBeUndefined();
  });
});

describe('matchesError', () => {
  test('States.TaskFailed matches every task error but States.Timeout; States.ALL matches all', () => {
    expect(matchesError('States.TaskFailed', 'ZdtRetryableError')).toBe(true);
    expect(matchesError('States.TaskFailed', 'States.Timeout')).toBe(false);
    expect(matchesError('States.ALL', 'States.Timeout')).toBe(true);
    expect(matchesError('Busy', 'Busy')).toBe(true);
    expect(matchesError('Busy', 'Other')).toBe(false);
  });
});
