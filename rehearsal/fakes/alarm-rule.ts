/**
 * Composite alarm rules (PutCompositeAlarm's AlarmRule): ALARM("name"), OK("name"),
 * INSUFFICIENT_DATA("name") — names quoted or not, or given as alarm ARNs — combined with AND, OR,
 * NOT, parentheses, TRUE and FALSE. Keywords are upper case, as CloudWatch writes them.
 */

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** Longest AlarmRule CloudWatch accepts. */
export const MAX_ALARM_RULE_LENGTH = 10_240;

/** A syntax error in an alarm rule; the fake turns it into a ValidationError. */
export class AlarmRuleError extends Error {}

type RuleNode =
  | { type: 'const'; value: boolean }
  | { type: 'state'; state: AlarmStateValue; alarm: string }
  | { type: 'not'; arg: RuleNode }
  | { type: 'and' | 'or'; left: RuleNode; right: RuleNode };

const STATE_FUNCTIONS: readonly AlarmStateValue[] = ['ALARM', 'OK', 'INSUFFICIENT_DATA'];

/** The alarm name of a name-or-ARN reference (arn:aws:cloudwatch:region:account:alarm:name). */
export function alarmNameOf(reference: string): string {
  const match = /^arn:[^:]+:cloudwatch:[^:]*:[^:]*:alarm:(.+)$/.exec(reference);
  return match ? match[1] : reference;
}

class RuleParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parse(): RuleNode {
    const node = this.or();
    this.skipSpace();
    if (this.pos < this.text.length) throw this.error(`Unexpected '${this.text.slice(this.pos, this.pos + 10)}'`);
    return node;
  }

  private error(message: string): AlarmRuleError {
    return new AlarmRuleError(`${message} at position ${this.pos + 1} of the alarm rule`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  /** Consumes a keyword when it is next (followed by a non-word character). */
  private keyword(word: string): boolean {
    this.skipSpace();
    if (this.text.startsWith(word, this.pos) && !/[A-Za-z0-9_]/.test(this.text[this.pos + word.length] ?? '')) {
      this.pos += word.length;
      return true;
    }
    return false;
  }

  private or(): RuleNode {
    let left = this.and();
    while (this.keyword('OR')) left = { type: 'or', left, right: this.and() };
    return left;
  }

  private and(): RuleNode {
    let left = this.not();
    while (this.keyword('AND')) left = { type: 'and', left, right: this.not() };
    return left;
  }

  private not(): RuleNode {
    if (this.keyword('NOT')) return { type: 'not', arg: this.not() };
    return this.primary();
  }

  private primary(): RuleNode {
    this.skipSpace();
    if (this.text[this.pos] === '(') {
      this.pos++;
      const inner = this.or();
      this.skipSpace();
      if (this.text[this.pos] !== ')') throw this.error("Expected ')'");
      this.pos++;
      return inner;
    }
    if (this.keyword('TRUE')) return { type: 'const', value: true };
    if (this.keyword('FALSE')) return { type: 'const', value: false };
    for (const state of STATE_FUNCTIONS) {
      if (this.keyword(state)) {
        this.skipSpace();
        if (this.text[this.pos] !== '(') throw this.error(`Expected '(' after ${state}`);
        this.pos++;
        return { type: 'state', state, alarm: alarmNameOf(this.alarmReference()) };
      }
    }
    if (this.pos >= this.text.length) throw this.error('Unexpected end');
    throw this.error(`Expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '(' but found '${this.text.slice(this.pos, this.pos + 10)}'`);
  }

  private alarmReference(): string {
    this.skipSpace();
    let name: string;
    if (this.text[this.pos] === '"') {
      const end = this.text.indexOf('"', this.pos + 1);
      if (end < 0) throw this.error('Unterminated alarm name');
      name = this.text.slice(this.pos + 1, end);
      this.pos = end + 1;
      this.skipSpace();
    } else {
      const end = this.text.indexOf(')', this.pos);
      if (end < 0) throw this.error("Expected ')'");
      name = this.text.slice(this.pos, end).trim();
      this.pos = end;
    }
    if (this.text[this.pos] !== ')') throw this.error("Expected ')' after the alarm name");
    this.pos++;
    if (!name) throw this.error('Empty alarm name');
    return name;
  }
}

/** A parsed AlarmRule. */
export class AlarmRule {
  private constructor(readonly source: string, private readonly root: RuleNode) {}

  static parse(source: string): AlarmRule {
    if (!source.trim()) throw new AlarmRuleError('The alarm rule is empty');
    if (source.length > MAX_ALARM_RULE_LENGTH) throw new AlarmRuleError(`The alarm rule has ${source.length} characters; the limit is ${MAX_ALARM_RULE_LENGTH}`);
    return new AlarmRule(source, new RuleParser(source).parse());
  }

  /** Names of the alarms the rule references. */
  alarms(): string[] {
    const out = new Set<string>();
    const walk = (n: RuleNode): void => {
      if (n.type === 'state') out.add(n.alarm);
      else if (n.type === 'not') walk(n.arg);
      else if (n.type === 'and' || n.type === 'or') { walk(n.left); walk(n.right); }
    };
    walk(this.root);
    return [...out];
  }

  /** True when the rule holds, given each referenced alarm's state (undefined: the alarm does not exist). */
  evaluate(stateOf: (alarm: string) => AlarmStateValue | undefined): boolean {
    const walk = (n: RuleNode): boolean => {
      switch (n.type) {
        case 'const': return n.value;
        case 'state': return stateOf(n.alarm) === n.state;
        case 'not': return !walk(n.arg);
        case 'and': return walk(n.left) && walk(n.right);
        default: return walk(n.left) || walk(n.right);
      }
    };
    return walk(this.root);
  }
}
