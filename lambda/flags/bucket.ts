import { createHash } from 'node:crypto';
import { BUCKETS } from './document';

/**
 * Bytes of the digest read as the bucket's number: 48 bits, so that taking it modulo 10,000 is unbiased to within
 * 10,000 / 2^48 (about 4e-11), far below anything a percentage can show.
 */
const HASH_BYTES = 6;

/**
 * The user's bucket for a flag, 0..9,999 (basis points). A user is inside a percentage rule at `p`% when
 * bucket < p * 100.
 *
 * Why a SHA-256 of (flag key, salt, user key):
 * - Stable: it depends only on its inputs, not on the process, the Lambda instance, the language or the order of
 *   calls (unlike Math.random or a per-runtime string hash), so a user gets the same answer on every request and
 *   from every service that evaluates the same document.
 * - Monotonic rollouts: the bucket does not depend on the percentage, so raising a rule from 5% to 25% only adds
 *   users (those with buckets 500..2,499); everyone who was in stays in.
 * - Independent per flag: the flag key (and salt) is part of the input, so the first 5% of one flag are not the
 *   first 5% of every other flag; a new salt reshuffles one flag.
 * - Uniform: SHA-256 output is indistinguishable from random, so 10% of users really are about 10%.
 * - node:crypto ships with Node.js (no dependency) and hashes a short string in about a microsecond.
 * The fields are joined with NUL, which none of them can hold in practice, so ("a.b", "c") and ("a", "b.c") differ.
 */
export function bucketOf(flagKey: string, salt: string, userKey: string): number {
  const digest = createHash('sha256').update(`${flagKey}\u0000${salt}\u0000${userKey}`, 'utf8').digest();
  return digest.readUIntBE(0, HASH_BYTES) % BUCKETS;
}

/** A percentage (0-100, at most two decimals) in basis points, 0..10,000. */
export function percentToBuckets(percent: number): number {
  return Math.min(BUCKETS, Math.max(0, Math.round(percent * (BUCKETS / 100))));
}
