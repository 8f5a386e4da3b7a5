/**
 * CloudWatch metric math for the fake: parser and evaluator over time series.
 *
 * Supported: numbers, metric/expression ids, + - * / ^, unary minus, parentheses, comparisons
 * (== != < <= > >=, giving 1 or 0), AND/&& and OR/||, arrays [a, b], and the functions IF(cond, a[, b]),
 * FILL(x, value | REPEAT | LINEAR), MAX, MIN, SUM, AVG (of one time series: a scalar; of an array:
 * a time series), ABS, CEIL, FLOOR, PERIOD. As in CloudWatch: an operation between two time
 * series has a value only where both have one; a result that is not a finite number (division by
 * zero) is dropped; comparisons and IF give no value where their input has none. Other CloudWatch
 * functions (SEARCH, METRICS, RATE, ANOMALY_DETECTION_BAND...) are rejected as unsupported.
 */

/** A time series on the evaluation grid: one value (or null = no datapoint) per period. */
export interface SeriesValue { readonly kind: 'series'; readonly values: ReadonlyArray<number | null> }
export interface ScalarValue { readonly kind: 'scalar'; readonly value: number | null }
export interface ArrayValue { readonly kind: 'array'; readonly items: readonly SeriesValue[] }
export type MathValue = SeriesValue | ScalarValue | ArrayValue;

/** A parse or evaluation error; the fake turns it into a ValidationError. */
export class MetricMathError extends Error {}

type Node =
  | { type: 'num'; value: number }
  | { type: 'id'; name: string }
  | { type: 'keyword'; name: 'REPEAT' | 'LINEAR' }
  | { type: 'neg'; arg: Node }
  | { type: 'bin'; op: string; left: Node; right: Node }
  | { type: 'call'; name: string; args: Node[] }
  | { type: 'array'; items: Node[] };

interface Token { readonly kind: 'num' | 'ident' | 'op' | 'end'; readonly text: string; readonly pos: number }

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '+', '-', '*', '/', '^', '<', '>', '(', ')', '[', ']', ','];
const SUPPORTED_FUNCTIONS = new Set(['IF', 'FILL', 'MAX', 'MIN', 'SUM', 'AVG', 'ABS', 'CEIL', 'FLOOR', 'PERIOD']);
/** Metric math functions CloudWatch has that the fake does not evaluate. */
const UNSUPPORTED_FUNCTIONS = new Set(['SEARCH', 'METRICS', 'RATE', 'DIFF', 'DIFF_TIME', 'RUNNING_SUM', 'ANOMALY_DETECTION_BAND',
  'INSIGHT_RULE_METRIC', 'LOG', 'LOG10', 'REMOVE_EMPTY', 'SORT', 'SLICE', 'SERVICE_QUOTA', 'TIME_SERIES', 'DATAPOINT_COUNT',
  'FIRST', 'LAST', 'CONCAT', 'STDDEV', 'DB_PERF_INSIGHTS', 'SQRT', 'MINUTE', 'HOUR', 'DAY', 'DATE', 'MONTH', 'YEAR', 'EPOCH',
  'AVG_SUB', 'LAMBDA', 'PERCENTILE']);

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const ch = expression[i];
    if (/\s/.test(ch)) { i++; continue; }
    const num = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(expression.slice(i));
    if (num) { tokens.push({ kind: 'num', text: num[0], pos: i }); i += num[0].length; continue; }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expression.slice(i));
    if (ident) { tokens.push({ kind: 'ident', text: ident[0], pos: i }); i += ident[0].length; continue; }
    const op = OPERATORS.find((o) => expression.startsWith(o, i));
    if (op) { tokens.push({ kind: 'op', text: op, pos: i }); i += op.length; continue; }
    throw new MetricMathError(`Unexpected character '${ch}' at position ${i + 1}`);
  }
  tokens.push({ kind: 'end', text: '', pos: expression.length });
  return tokens;
}

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw new MetricMathError(`Unexpected '${t.text}' at position ${t.pos + 1}`);
    return node;
  }

  private peek(): Token { return this.tokens[this.index]; }
  private next(): Token { return this.tokens[this.index++]; }
  private isOp(...ops: string[]): boolean { const t = this.peek(); return t.kind === 'op' && ops.includes(t.text); }
  private isWord(word: string): boolean { const t = this.peek(); return t.kind === 'ident' && t.text.toUpperCase() === word; }

  private expect(op: string): void {
    const t = this.next();
    if (t.kind !== 'op' || t.text !== op) {
      throw new MetricMathError(`Expected '${op}' at position ${t.pos + 1} but found ${t.kind === 'end' ? 'the end of the expression' : `'${t.text}'`}`);
    }
  }

  private or(): Node {
    let left = this.and();
    while (this.isOp('||') || this.isWord('OR')) { this.next(); left = { type: 'bin', op: '||', left, right: this.and() }; }
    return left;
  }

  private and(): Node {
    let left = this.comparison();
    while (this.isOp('&&') || this.isWord('AND')) { this.next(); left = { type: 'bin', op: '&&', left, right: this.comparison() }; }
    return left;
  }

  private comparison(): Node {
    let left = this.additive();
    while (this.isOp('==', '!=', '<', '<=', '>', '>=')) { const op = this.next().text; left = { type: 'bin', op, left, right: this.additive() }; }
    return left;
  }

  private additive(): Node {
    let left = this.multiplicative();
    while (this.isOp('+', '-')) { const op = this.next().text; left = { type: 'bin', op, left, right: this.multiplicative() }; }
    return left;
  }

  private multiplicative(): Node {
    let left = this.unary();
    while (this.isOp('*', '/')) { const op = this.next().text; left = { type: 'bin', op, left, right: this.unary() }; }
    return left;
  }

  private unary(): Node {
    if (this.isOp('-')) { this.next(); return { type: 'neg', arg: this.unary() }; }
    if (this.isOp('+')) { this.next(); return this.unary(); }
    return this.power();
  }

  private power(): Node {
    const base = this.primary();
    if (this.isOp('^')) { this.next(); return { type: 'bin', op: '^', left: base, right: this.unary() }; }
    return base;
  }

  private primary(): Node {
    const t = this.next();
    if (t.kind === 'num') return { type: 'num', value: Number(t.text) };
    if (t.kind === 'op' && t.text === '(') { const inner = this.or(); this.expect(')'); return inner; }
    if (t.kind === 'op' && t.text === '[') {
      const items: Node[] = [];
      if (!this.isOp(']')) {
        do { items.push(this.or()); } while (this.isOp(',') && this.next());
      }
      this.expect(']');
      return { type: 'array', items };
    }
    if (t.kind === 'ident') {
      if (this.isOp('(')) {
        const name = t.text.toUpperCase();
        if (UNSUPPORTED_FUNCTIONS.has(name)) {
          throw new MetricMathError(`The function ${name} is CloudWatch metric math that the rehearsal's FakeCloudWatch does not evaluate`);
        }
        if (!SUPPORTED_FUNCTIONS.has(name)) throw new MetricMathError(`Unknown function '${t.text}' at position ${t.pos + 1}`);
        this.next();
        const args: Node[] = [];
        if (!this.isOp(')')) {
          do { args.push(this.or()); } while (this.isOp(',') && this.next());
        }
        this.expect(')');
        return { type: 'call', name, args };
      }
      if (t.text === 'REPEAT' || t.text === 'LINEAR') return { type: 'keyword', name: t.text };
      return { type: 'id', name: t.text };
    }
    throw new MetricMathError(t.kind === 'end' ? 'Unexpected end of the expression' : `Unexpected '${t.text}' at position ${t.pos + 1}`);
  }
}

/** A parsed metric math expression. */
export class MetricExpression {
  private constructor(readonly source: string, private readonly root: Node) {}

  /** Parses an expression; throws MetricMathError with the position of a syntax error. */
  static parse(source: string): MetricExpression {
    if (!source.trim()) throw new MetricMathError('The expression is empty');
    return new MetricExpression(source, new Parser(tokenize(source)).parse());
  }

  /** Ids of the metrics and expressions this expression reads. */
  references(): string[] {
    const out = new Set<string>();
    const walk = (n: Node): void => {
      switch (n.type) {
        case 'id': out.add(n.name); break;
        case 'neg': walk(n.arg); break;
        case 'bin': walk(n.left); walk(n.right); break;
        case 'call': n.args.forEach(walk); break;
        case 'array': n.items.forEach(walk); break;
        default: break;
      }
    };
    walk(this.root);
    return [...out];
  }

  /**
   * Evaluates on a grid of `length` periods of `periodSeconds`; `resolve(id)` gives the series of
   * a referenced query.
   */
  evaluate(resolve: (id: string) => MathValue, length: number, periodSeconds: number): MathValue {
    return new Evaluator(resolve, length, periodSeconds).eval(this.root);
  }
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function applyBinary(op: string, a: number, b: number): number | null {
  switch (op) {
    case '+': return finite(a + b);
    case '-': return finite(a - b);
    case '*': return finite(a * b);
    case '/': return finite(a / b);
    case '^': return finite(a ** b);
    case '==': return a === b ? 1 : 0;
    case '!=': return a !== b ? 1 : 0;
    case '<': return a < b ? 1 : 0;
    case '<=': return a <= b ? 1 : 0;
    case '>': return a > b ? 1 : 0;
    case '>=': return a >= b ? 1 : 0;
    case '&&': return a !== 0 && b !== 0 ? 1 : 0;
    case '||': return a !== 0 || b !== 0 ? 1 : 0;
    default: throw new MetricMathError(`Unknown operator ${op}`);
  }
}

class Evaluator {
  constructor(private readonly resolve: (id: string) => MathValue, private readonly length: number, private readonly periodSeconds: number) {}

  eval(n: Node): MathValue {
    switch (n.type) {
      case 'num': return { kind: 'scalar', value: n.value };
      case 'id': return this.resolve(n.name);
      case 'keyword': throw new MetricMathError(`${n.name} can only be used as the second argument of FILL`);
      case 'neg': return this.map(this.eval(n.arg), (x) => finite(-x));
      case 'bin': return this.binary(n.op, this.eval(n.left), this.eval(n.right));
      case 'array': {
        const items = n.items.map((i) => this.eval(i));
        return { kind: 'array', items: items.map((v) => this.toSeries(v, 'an array element')) };
      }
      case 'call': return this.call(n.name, n.args);
      default: throw new MetricMathError('Unknown expression node');
    }
  }

  private toSeries(v: MathValue, what: string): SeriesValue {
    if (v.kind === 'series') return v;
    if (v.kind === 'scalar') return { kind: 'series', values: new Array<number | null>(this.length).fill(v.value) };
    throw new MetricMathError(`${what} must be a single time series, not an array`);
  }

  private map(v: MathValue, f: (x: number) => number | null): MathValue {
    switch (v.kind) {
      case 'scalar': return { kind: 'scalar', value: v.value === null ? null : f(v.value) };
      case 'series': return { kind: 'series', values: v.values.map((x) => (x === null ? null : f(x))) };
      default: return { kind: 'array', items: v.items.map((s) => ({ kind: 'series', values: s.values.map((x) => (x === null ? null : f(x))) })) };
    }
  }

  private binary(op: string, a: MathValue, b: MathValue): MathValue {
    if (a.kind === 'scalar' && b.kind === 'scalar') {
      return { kind: 'scalar', value: a.value === null || b.value === null ? null : applyBinary(op, a.value, b.value) };
    }
    if (a.kind === 'array' || b.kind === 'array') {
      if (a.kind === 'array' && b.kind === 'scalar') return this.map(a, (x) => (b.value === null ? null : applyBinary(op, x, b.value)));
      if (b.kind === 'array' && a.kind === 'scalar') return this.map(b, (x) => (a.value === null ? null : applyBinary(op, a.value, x)));
      throw new MetricMathError(`The operator ${op} cannot combine an array of time series with a time series or another array`);
    }
    const left = this.toSeries(a, 'operand');
    const right = this.toSeries(b, 'operand');
    return {
      kind: 'series',
      values: left.values.map((x, i) => {
        const y = right.values[i];
        return x === null || y === null ? null : applyBinary(op, x, y);
      }),
    };
  }

  private aggregate(name: string, args: Node[]): MathValue {
    if (args.length !== 1) {
      throw new MetricMathError(`${name} takes one argument (a time series, or an array of time series such as ${name}([a, b])); got ${args.length}`);
    }
    const reduce = (xs: number[]): number | null => {
      if (xs.length === 0) return null;
      switch (name) {
        case 'MAX': return Math.max(...xs);
        case 'MIN': return Math.min(...xs);
        case 'SUM': return xs.reduce((s, x) => s + x, 0);
        default: return xs.reduce((s, x) => s + x, 0) / xs.length;
      }
    };
    const v = this.eval(args[0]);
    switch (v.kind) {
      case 'scalar': return v;
      case 'series': return { kind: 'scalar', value: reduce(v.values.filter((x): x is number => x !== null)) };
      default: return {
        kind: 'series',
        values: new Array(this.length).fill(0).map((_, i) => reduce(v.items.map((s) => s.values[i]).filter((x): x is number => x !== null))),
      };
    }
  }

  private call(name: string, args: Node[]): MathValue {
    switch (name) {
      case 'MAX': case 'MIN': case 'SUM': case 'AVG':
        return this.aggregate(name, args);
      case 'ABS': case 'CEIL': case 'FLOOR': {
        if (args.length !== 1) throw new MetricMathError(`${name} takes exactly one argument; got ${args.length}`);
        const f = name === 'ABS' ? Math.abs : name === 'CEIL' ? Math.ceil : Math.floor;
        return this.map(this.eval(args[0]), (x) => f(x));
      }
      case 'PERIOD':
        if (args.length !== 1) throw new MetricMathError(`PERIOD takes exactly one argument; got ${args.length}`);
        this.eval(args[0]);
        return { kind: 'scalar', value: this.periodSeconds };
      case 'IF': {
        if (args.length !== 2 && args.length !== 3) throw new MetricMathError(`IF takes 2 or 3 arguments (condition, value if true[, value if false]); got ${args.length}`);
        const cond = this.toSeries(this.eval(args[0]), 'The condition of IF');
        const whenTrue = this.toSeries(this.eval(args[1]), 'The second argument of IF');
        const whenFalse = args.length === 3 ? this.toSeries(this.eval(args[2]), 'The third argument of IF') : undefined;
        return {
          kind: 'series',
          values: cond.values.map((c, i) => (c === null ? null : c !== 0 ? whenTrue.values[i] : whenFalse ? whenFalse.values[i] : null)),
        };
      }
      case 'FILL': {
        if (args.length !== 2) throw new MetricMathError(`FILL takes 2 arguments (time series, value | REPEAT | LINEAR); got ${args.length}`);
        const target = this.eval(args[0]);
        const fill = args[1];
        const fillSeries = (s: SeriesValue): SeriesValue => {
          if (fill.type === 'keyword') return { kind: 'series', values: fill.name === 'REPEAT' ? repeatFill(s.values) : linearFill(s.values) };
          const value = this.eval(fill);
          if (value.kind !== 'scalar') throw new MetricMathError('The second argument of FILL must be a number, REPEAT or LINEAR');
          return { kind: 'series', values: s.values.map((x) => (x === null ? value.value : x)) };
        };
        if (target.kind === 'array') return { kind: 'array', items: target.items.map(fillSeries) };
        return fillSeries(this.toSeries(target, 'The first argument of FILL'));
      }
      default:
        throw new MetricMathError(`Unknown function ${name}`);
    }
  }
}

function repeatFill(values: ReadonlyArray<number | null>): Array<number | null> {
  let last: number | null = values.find((v) => v !== null) ?? null;
  return values.map((v) => {
    if (v !== null) last = v;
    return v ?? last;
  });
}

function linearFill(values: ReadonlyArray<number | null>): Array<number | null> {
  const out = [...values];
  const known = values.map((v, i) => (v === null ? -1 : i)).filter((i) => i >= 0);
  if (known.length === 0) return out;
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== null) continue;
    const before = [...known].reverse().find((k) => k < i);
    const after = known.find((k) => k > i);
    if (before === undefined) out[i] = values[after!];
    else if (after === undefined) out[i] = values[before];
    else out[i] = values[before]! + ((values[after]! - values[before]!) * (i - before)) / (after - before);
  }
  return out;
}
