/**
 * DynamoDB expressions for the fake: ConditionExpression (also used as FilterExpression),
 * UpdateExpression and ProjectionExpression — parsed with DynamoDB's rules (reserved words must go
 * through #names, placeholders must be defined and used, document paths must not overlap) and
 * evaluated with its semantics. Errors are ValidationExceptions with DynamoDB's wording.
 *
 * Conditions: = <> < <= > >=, BETWEEN, IN, AND, OR, NOT, parentheses, attribute_exists,
 * attribute_not_exists, attribute_type, begins_with, contains, size. Updates: SET (with +, -,
 * if_not_exists, list_append), REMOVE, ADD, DELETE. Paths: names, #names, nested `.` and `[n]`.
 */
import { isReservedWord } from './dynamodb-reserved-words';
import {
  addNumbers, ATTR_TYPES, AttrValue, compareValues, Item, normalizeValue, typeOf, validationException, valuesEqual,
} from './dynamodb-values';
import { deepClone } from './clone';

export type PathSegment = string | number;
export type DocumentPath = readonly PathSegment[];
export type ExpressionKind = 'ConditionExpression' | 'UpdateExpression' | 'ProjectionExpression' | 'FilterExpression';

/** Most operands DynamoDB allows in an IN list. */
export const MAX_IN_OPERANDS = 100;

/** ExpressionAttributeNames / Values of one request, with the bookkeeping of which ones were used. */
export class ExpressionContext {
  private readonly usedNames = new Set<string>();
  private readonly usedValues = new Set<string>();
  private readonly values: Record<string, AttrValue>;

  constructor(private readonly names: Readonly<Record<string, string>> = {}, values: Readonly<Record<string, AttrValue>> = {}) {
    this.values = {};
    for (const [k, v] of Object.entries(values)) {
      try {
        this.values[k] = normalizeValue(v);
      } catch (err) {
        throw validationException(`ExpressionAttributeValues contains invalid value: ${(err as Error).message} for key ${k}`);
      }
    }
  }

  name(placeholder: string, kind: ExpressionKind): string {
    const value = this.names[placeholder];
    if (value === undefined) {
      throw validationException(`Invalid ${kind}: An expression attribute name used in the document path is not defined; attribute name: ${placeholder}`);
    }
    this.usedNames.add(placeholder);
    return value;
  }

  value(placeholder: string, kind: ExpressionKind): AttrValue {
    const value = this.values[placeholder];
    if (value === undefined) {
      throw validationException(`Invalid ${kind}: An expression attribute value used in expression is not defined; attribute value: ${placeholder}`);
    }
    this.usedValues.add(placeholder);
    return value;
  }

  /** DynamoDB rejects requests with names or values that no expression uses. */
  checkAllUsed(): void {
    const unusedValues = Object.keys(this.values).filter((k) => !this.usedValues.has(k));
    if (unusedValues.length > 0) throw validationException(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`);
    const unusedNames = Object.keys(this.names).filter((k) => !this.usedNames.has(k));
    if (unusedNames.length > 0) throw validationException(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

interface Token { readonly type: 'word' | 'name' | 'value' | 'number' | 'punct' | 'end'; readonly text: string }

const PUNCTUATION = ['<>', '<=', '>=', '=', '<', '>', '(', ')', '[', ']', ',', '.', '+', '-'];

function tokenize(text: string, kind: ExpressionKind): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const syntax = (token: string): Error => validationException(`Invalid ${kind}: Syntax error; token: "${token}", near: "${text.slice(Math.max(0, i - 5), i + 5)}"`);
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) { i += space[0].length; continue; }
    const ref = /^([#:])([A-Za-z0-9_]+)/.exec(rest);
    if (ref) { tokens.push({ type: ref[1] === '#' ? 'name' : 'value', text: ref[0] }); i += ref[0].length; continue; }
    if (rest[0] === '#' || rest[0] === ':') throw syntax(rest[0]);
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (word) { tokens.push({ type: 'word', text: word[0] }); i += word[0].length; continue; }
    const num = /^\d+/.exec(rest);
    if (num) { tokens.push({ type: 'number', text: num[0] }); i += num[0].length; continue; }
    const punct = PUNCTUATION.find((p) => rest.startsWith(p));
    if (punct) { tokens.push({ type: 'punct', text: punct }); i += punct.length; continue; }
    throw syntax(rest[0]);
  }
  tokens.push({ type: 'end', text: '<EOF>' });
  return tokens;
}

const CONDITION_FUNCTIONS = new Set(['attribute_exists', 'attribute_not_exists', 'attribute_type', 'begins_with', 'contains']);
const UPDATE_FUNCTIONS = new Set(['if_not_exists', 'list_append']);
const ALL_FUNCTIONS = new Set([...CONDITION_FUNCTIONS, ...UPDATE_FUNCTIONS, 'size']);

class TokenStream {
  private index = 0;
  constructor(private readonly tokens: Token[], readonly kind: ExpressionKind, readonly ctx: ExpressionContext) {}

  peek(offset = 0): Token { return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]; }
  next(): Token { return this.tokens[Math.min(this.index++, this.tokens.length - 1)]; }
  atEnd(): boolean { return this.peek().type === 'end'; }
  isPunct(...p: string[]): boolean { const t = this.peek(); return t.type === 'punct' && p.includes(t.text); }
  isKeyword(word: string): boolean { const t = this.peek(); return t.type === 'word' && t.text.toUpperCase() === word; }

  error(message: string): Error {
    return validationException(`Invalid ${this.kind}: ${message}`);
  }

  syntaxError(): Error {
    const t = this.peek();
    const near = this.tokens.slice(Math.max(0, this.index - 1), this.index + 2).filter((x) => x.type !== 'end').map((x) => x.text).join(' ');
    return this.error(`Syntax error; token: "${t.text}", near: "${near}"`);
  }

  expectPunct(p: string): void {
    if (!this.isPunct(p)) throw this.syntaxError();
    this.next();
  }

  /** A document path: name or #name, then .name / .#name / [n]. */
  path(): PathSegment[] {
    const segments: PathSegment[] = [this.segment()];
    for (;;) {
      if (this.isPunct('.')) { this.next(); segments.push(this.segment()); continue; }
      if (this.isPunct('[')) {
        this.next();
        const t = this.next();
        if (t.type !== 'number') throw this.syntaxError();
        segments.push(Number(t.text));
        this.expectPunct(']');
        continue;
      }
      return segments;
    }
  }

  private segment(): string {
    const t = this.peek();
    if (t.type === 'name') { this.next(); return this.ctx.name(t.text, this.kind); }
    if (t.type === 'word') {
      if (isReservedWord(t.text)) throw this.error(`Attribute name is a reserved keyword; reserved keyword: ${t.text}`);
      this.next();
      return t.text;
    }
    throw this.syntaxError();
  }

  /** A :value placeholder. */
  value(): AttrValue {
    const t = this.next();
    if (t.type !== 'value') { this.index--; throw this.syntaxError(); }
    return this.ctx.value(t.text, this.kind);
  }

  isFunctionCall(): boolean {
    return this.peek().type === 'word' && this.peek(1).type === 'punct' && this.peek(1).text === '(';
  }
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/** The value at a document path of an item, or undefined. */
export function getPath(item: Item | undefined, path: DocumentPath): AttrValue | undefined {
  if (!item) return undefined;
  let current: AttrValue | undefined = item[path[0] as string];
  for (const segment of path.slice(1)) {
    if (current === undefined) return undefined;
    if (typeof segment === 'number') current = current.L?.[segment];
    else current = current.M?.[segment];
  }
  return current;
}

export function formatPath(path: DocumentPath): string {
  return `[${path.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join(', ')}]`;
}

function overlaps(a: DocumentPath, b: DocumentPath): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkNoOverlap(paths: readonly DocumentPath[], kind: ExpressionKind): void {
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      if (overlaps(paths[i], paths[j])) {
        throw validationException(`Invalid ${kind}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${formatPath(paths[i])}, path two: ${formatPath(paths[j])}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

type Operand =
  | { readonly kind: 'path'; readonly path: DocumentPath }
  | { readonly kind: 'value'; readonly value: AttrValue }
  | { readonly kind: 'size'; readonly path: DocumentPath };

export type Condition =
  | { readonly kind: 'compare'; readonly op: string; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'between'; readonly operand: Operand; readonly low: Operand; readonly high: Operand }
  | { readonly kind: 'in'; readonly operand: Operand; readonly list: readonly Operand[] }
  | { readonly kind: 'function'; readonly name: string; readonly path: DocumentPath; readonly arg?: Operand }
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'not'; readonly condition: Condition };

class ConditionParser {
  constructor(private readonly s: TokenStream) {}

  parse(): Condition {
    const c = this.or();
    if (!this.s.atEnd()) throw this.s.syntaxError();
    return c;
  }

  private or(): Condition {
    let left = this.and();
    while (this.s.isKeyword('OR')) { this.s.next(); left = { kind: 'or', left, right: this.and() }; }
    return left;
  }

  private and(): Condition {
    let left = this.not();
    while (this.s.isKeyword('AND')) { this.s.next(); left = { kind: 'and', left, right: this.not() }; }
    return left;
  }

  private not(): Condition {
    if (this.s.isKeyword('NOT')) { this.s.next(); return { kind: 'not', condition: this.not() }; }
    return this.atom();
  }

  private atom(): Condition {
    const s = this.s;
    if (s.isPunct('(')) {
      s.next();
      const inner = this.or();
      s.expectPunct(')');
      return inner;
    }
    if (s.isFunctionCall()) {
      const name = s.peek().text;
      if (CONDITION_FUNCTIONS.has(name)) return this.conditionFunction(name);
      if (UPDATE_FUNCTIONS.has(name)) throw s.error(`The function is not allowed to be used this way in an expression; function: ${name}`);
      if (!ALL_FUNCTIONS.has(name)) throw s.error(`Invalid function name; function: ${name}`);
    }
    const operand = this.operand();
    if (s.isKeyword('BETWEEN')) {
      s.next();
      const low = this.operand();
      if (!s.isKeyword('AND')) throw s.syntaxError();
      s.next();
      return { kind: 'between', operand, low, high: this.operand() };
    }
    if (s.isKeyword('IN')) {
      s.next();
      s.expectPunct('(');
      const list = [this.operand()];
      while (s.isPunct(',')) { s.next(); list.push(this.operand()); }
      s.expectPunct(')');
      if (list.length > MAX_IN_OPERANDS) throw s.error(`The IN operator accepts at most ${MAX_IN_OPERANDS} operands; got ${list.length}`);
      return { kind: 'in', operand, list };
    }
    if (!s.isPunct('=', '<>', '<', '<=', '>', '>=')) throw s.syntaxError();
    const op = s.next().text;
    return { kind: 'compare', op, left: operand, right: this.operand() };
  }

  private conditionFunction(name: string): Condition {
    const s = this.s;
    s.next();
    s.expectPunct('(');
    const path = s.path();
    let arg: Operand | undefined;
    if (name === 'attribute_type' || name === 'begins_with' || name === 'contains') {
      s.expectPunct(',');
      arg = this.operand();
    }
    s.expectPunct(')');
    if (name === 'attribute_type') {
      const t = arg?.kind === 'value' ? arg.value : undefined;
      if (!t || t.S === undefined || !(ATTR_TYPES as readonly string[]).includes(t.S)) {
        throw s.error(`Invalid attribute type name found; type: ${t?.S ?? (t ? typeOf(t) : 'path')}, valid types: {${ATTR_TYPES.join(',')}}`);
      }
    }
    if (name === 'begins_with' && arg?.kind === 'value' && arg.value.S === undefined && arg.value.B === undefined) {
      throw s.error(`Incorrect operand type for operator or function; operator or function: begins_with, operand type: ${typeOf(arg.value)}`);
    }
    return { kind: 'function', name, path, arg };
  }

  private operand(): Operand {
    const s = this.s;
    if (s.peek().type === 'value') return { kind: 'value', value: s.value() };
    if (s.isFunctionCall()) {
      const name = s.peek().text;
      if (name !== 'size') {
        if (ALL_FUNCTIONS.has(name)) throw s.error(`The function is not allowed to be used this way in an expression; function: ${name}`);
        throw s.error(`Invalid function name; function: ${name}`);
      }
      s.next();
      s.expectPunct('(');
      const path = s.path();
      s.expectPunct(')');
      return { kind: 'size', path };
    }
    return { kind: 'path', path: s.path() };
  }
}

/** Parses a condition (or filter) expression, resolving its placeholders. */
export function parseCondition(text: string, ctx: ExpressionContext, kind: ExpressionKind = 'ConditionExpression'): Condition {
  if (!text.trim()) throw validationException(`Invalid ${kind}: The expression can not be empty;`);
  return new ConditionParser(new TokenStream(tokenize(text, kind), kind, ctx)).parse();
}

function sizeOf(value: AttrValue | undefined): AttrValue | undefined {
  if (!value) return undefined;
  if (value.S !== undefined) return { N: String(Buffer.byteLength(value.S, 'utf8')) };
  if (value.B !== undefined) return { N: String(value.B.length) };
  const collection = value.SS ?? value.NS ?? value.BS ?? value.L;
  if (collection) return { N: String(collection.length) };
  if (value.M) return { N: String(Object.keys(value.M).length) };
  return undefined;
}

function resolveOperand(operand: Operand, item: Item | undefined): AttrValue | undefined {
  switch (operand.kind) {
    case 'value': return operand.value;
    case 'path': return getPath(item, operand.path);
    default: return sizeOf(getPath(item, operand.path));
  }
}

/** Evaluates a parsed condition against an item (undefined: the item does not exist). */
export function evaluateCondition(condition: Condition, item: Item | undefined): boolean {
  switch (condition.kind) {
    case 'and': return evaluateCondition(condition.left, item) && evaluateCondition(condition.right, item);
    case 'or': return evaluateCondition(condition.left, item) || evaluateCondition(condition.right, item);
    case 'not': return !evaluateCondition(condition.condition, item);
    case 'compare': {
      const a = resolveOperand(condition.left, item);
      const b = resolveOperand(condition.right, item);
      if (condition.op === '<>') return a !== undefined && b !== undefined ? !valuesEqual(a, b) : a !== b;
      if (a === undefined || b === undefined) return false;
      if (condition.op === '=') return valuesEqual(a, b);
      const order = compareValues(a, b);
      if (order === undefined) return false;
      switch (condition.op) {
        case '<': return order < 0;
        case '<=': return order <= 0;
        case '>': return order > 0;
        default: return order >= 0;
      }
    }
    case 'between': {
      const x = resolveOperand(condition.operand, item);
      const low = resolveOperand(condition.low, item);
      const high = resolveOperand(condition.high, item);
      if (low && high) {
        const bounds = compareValues(low, high);
        if (bounds !== undefined && bounds > 0) {
          throw validationException('Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound');
        }
      }
      if (!x || !low || !high) return false;
      const lo = compareValues(x, low);
      const hi = compareValues(x, high);
      return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
    }
    case 'in': {
      const x = resolveOperand(condition.operand, item);
      return x !== undefined && condition.list.some((o) => {
        const v = resolveOperand(o, item);
        return v !== undefined && valuesEqual(x, v);
      });
    }
    default: {
      const value = getPath(item, condition.path);
      const arg = condition.arg ? resolveOperand(condition.arg, item) : undefined;
      switch (condition.name) {
        case 'attribute_exists': return value !== undefined;
        case 'attribute_not_exists': return value === undefined;
        case 'attribute_type': return value !== undefined && typeOf(value) === arg?.S;
        case 'begins_with':
          if (!value || !arg) return false;
          if (value.S !== undefined && arg.S !== undefined) return value.S.startsWith(arg.S);
          if (value.B !== undefined && arg.B !== undefined) return Buffer.from(value.B).subarray(0, arg.B.length).equals(Buffer.from(arg.B));
          return false;
        default: // contains
          if (!value || !arg) return false;
          if (value.S !== undefined) return arg.S !== undefined && value.S.includes(arg.S);
          if (value.SS) return arg.S !== undefined && value.SS.includes(arg.S);
          if (value.NS) return arg.N !== undefined && value.NS.some((n) => valuesEqual({ N: n }, arg));
          if (value.BS) return arg.B !== undefined && value.BS.some((b) => valuesEqual({ B: b }, arg));
          if (value.L) return value.L.some((v) => valuesEqual(v, arg));
          return false;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------------------

type SetValue =
  | { readonly kind: 'path'; readonly path: DocumentPath }
  | { readonly kind: 'value'; readonly value: AttrValue }
  | { readonly kind: 'if_not_exists'; readonly path: DocumentPath; readonly fallback: SetValue }
  | { readonly kind: 'list_append'; readonly a: SetValue; readonly b: SetValue }
  | { readonly kind: 'arith'; readonly op: '+' | '-'; readonly a: SetValue; readonly b: SetValue };

export type UpdateAction =
  | { readonly kind: 'SET'; readonly path: DocumentPath; readonly value: SetValue }
  | { readonly kind: 'REMOVE'; readonly path: DocumentPath }
  | { readonly kind: 'ADD' | 'DELETE'; readonly path: DocumentPath; readonly value: AttrValue };

class UpdateParser {
  constructor(private readonly s: TokenStream) {}

  parse(): UpdateAction[] {
    const s = this.s;
    const actions: UpdateAction[] = [];
    const seen = new Set<string>();
    if (s.atEnd()) throw s.error('The expression can not be empty;');
    while (!s.atEnd()) {
      const t = s.peek();
      const clause = t.type === 'word' ? t.text.toUpperCase() : '';
      if (!['SET', 'REMOVE', 'ADD', 'DELETE'].includes(clause)) throw s.syntaxError();
      if (seen.has(clause)) throw s.error(`The "${clause}" section can only be used once in an update expression;`);
      seen.add(clause);
      s.next();
      do {
        actions.push(this.action(clause));
      } while (s.isPunct(',') && s.next());
    }
    return actions;
  }

  private action(clause: string): UpdateAction {
    const s = this.s;
    const path = s.path();
    switch (clause) {
      case 'SET':
        s.expectPunct('=');
        return { kind: 'SET', path, value: this.setValue() };
      case 'REMOVE':
        return { kind: 'REMOVE', path };
      default:
        if (path.length !== 1) throw s.error(`The ${clause} action only supports top-level attributes; path: ${formatPath(path)}`);
        return { kind: clause as 'ADD' | 'DELETE', path, value: s.value() };
    }
  }

  private setValue(): SetValue {
    const a = this.setOperand();
    if (this.s.isPunct('+', '-')) {
      const op = this.s.next().text as '+' | '-';
      return { kind: 'arith', op, a, b: this.setOperand() };
    }
    return a;
  }

  private setOperand(): SetValue {
    const s = this.s;
    if (s.peek().type === 'value') return { kind: 'value', value: s.value() };
    if (s.isFunctionCall()) {
      const name = s.peek().text;
      if (name === 'if_not_exists') {
        s.next();
        s.expectPunct('(');
        const path = s.path();
        s.expectPunct(',');
        const fallback = this.setOperand();
        s.expectPunct(')');
        return { kind: 'if_not_exists', path, fallback };
      }
      if (name === 'list_append') {
        s.next();
        s.expectPunct('(');
        const a = this.setOperand();
        s.expectPunct(',');
        const b = this.setOperand();
        s.expectPunct(')');
        return { kind: 'list_append', a, b };
      }
      if (ALL_FUNCTIONS.has(name)) throw s.error(`The function is not allowed to be used this way in an expression; function: ${name}`);
      throw s.error(`Invalid function name; function: ${name}`);
    }
    return { kind: 'path', path: s.path() };
  }
}

/** Parses an update expression, resolving its placeholders; rejects overlapping paths. */
export function parseUpdate(text: string, ctx: ExpressionContext): UpdateAction[] {
  if (!text.trim()) throw validationException('Invalid UpdateExpression: The expression can not be empty;');
  const actions = new UpdateParser(new TokenStream(tokenize(text, 'UpdateExpression'), 'UpdateExpression', ctx)).parse();
  checkNoOverlap(actions.map((a) => a.path), 'UpdateExpression');
  return actions;
}

function updateError(message: string): Error {
  return validationException(`Invalid UpdateExpression: ${message}`);
}

function evalSetValue(value: SetValue, old: Item | undefined): AttrValue {
  switch (value.kind) {
    case 'value': return value.value;
    case 'path': {
      const v = getPath(old, value.path);
      if (v === undefined) throw updateError('The provided expression refers to an attribute that does not exist in the item');
      return v;
    }
    case 'if_not_exists': return getPath(old, value.path) ?? evalSetValue(value.fallback, old);
    case 'list_append': {
      const a = evalSetValue(value.a, old);
      const b = evalSetValue(value.b, old);
      for (const v of [a, b]) {
        if (!v.L) throw updateError(`Incorrect operand type for operator or function; operator or function: list_append, operand type: ${typeOf(v)}`);
      }
      return { L: [...a.L!, ...b.L!] };
    }
    default: {
      const a = evalSetValue(value.a, old);
      const b = evalSetValue(value.b, old);
      for (const v of [a, b]) {
        if (v.N === undefined) throw updateError(`Incorrect operand type for operator or function; operator or function: ${value.op}, operand type: ${typeOf(v)}`);
      }
      return { N: addNumbers(a.N!, b.N!, value.op === '-') };
    }
  }
}

function setPath(item: Item, path: DocumentPath, value: AttrValue): void {
  if (path.length === 1) { item[path[0] as string] = value; return; }
  const parent = getPath(item, path.slice(0, -1));
  const last = path[path.length - 1];
  if (typeof last === 'number') {
    if (!parent?.L) throw updateError('The document path provided in the update expression is invalid for update');
    if (last >= parent.L.length) parent.L.push(value);
    else parent.L[last] = value;
  } else {
    if (!parent?.M) throw updateError('The document path provided in the update expression is invalid for update');
    parent.M[last] = value;
  }
}

function removePath(item: Item, path: DocumentPath): void {
  if (path.length === 1) { delete item[path[0] as string]; return; }
  const parent = getPath(item, path.slice(0, -1));
  const last = path[path.length - 1];
  if (typeof last === 'number') {
    if (parent?.L && last < parent.L.length) parent.L.splice(last, 1);
  } else if (parent?.M) {
    delete parent.M[last];
  }
}

function setKind(v: AttrValue): 'SS' | 'NS' | 'BS' | undefined {
  return v.SS ? 'SS' : v.NS ? 'NS' : v.BS ? 'BS' : undefined;
}

/**
 * Applies parsed update actions to an item (undefined: a new item with `key`). Every value is
 * computed from the item as it was before the update, as DynamoDB does. Returns the new item.
 */
export function applyUpdate(actions: readonly UpdateAction[], old: Item | undefined, key: Item): Item {
  for (const action of actions) {
    const top = action.path[0] as string;
    if (key[top] !== undefined) throw validationException(`One or more parameter values were invalid: Cannot update attribute ${top}. This attribute is part of the key`);
  }
  const item: Item = deepClone(old ?? key);
  const sets = actions.filter((a): a is Extract<UpdateAction, { kind: 'SET' }> => a.kind === 'SET').map((a) => ({ path: a.path, value: evalSetValue(a.value, old) }));
  for (const { path, value } of sets) setPath(item, path, deepClone(value));
  const removes = actions.filter((a) => a.kind === 'REMOVE').map((a) => a.path);
  // Remove list elements from the highest index down so that earlier removals do not shift later ones.
  removes.sort((a, b) => (typeof b[b.length - 1] === 'number' && typeof a[a.length - 1] === 'number' ? (b[b.length - 1] as number) - (a[a.length - 1] as number) : 0));
  for (const path of removes) removePath(item, path);
  for (const action of actions) {
    if (action.kind !== 'ADD' && action.kind !== 'DELETE') continue;
    const name = action.path[0] as string;
    const current = item[name];
    const operand = action.value;
    if (action.kind === 'ADD') {
      if (operand.N !== undefined) {
        if (current !== undefined && current.N === undefined) throw updateError(`Incorrect operand type for operator or function; operator: ADD, operand type: ${typeOf(current)}`);
        item[name] = { N: current ? addNumbers(current.N!, operand.N) : operand.N };
      } else if (setKind(operand)) {
        const kind = setKind(operand)!;
        if (current !== undefined && setKind(current) !== kind) throw validationException('An operand in the update expression has an incorrect data type');
        const merged = [...((current?.[kind] as unknown[]) ?? [])];
        for (const x of operand[kind] as unknown[]) if (!merged.some((m) => valuesEqual({ [kind]: [m] } as AttrValue, { [kind]: [x] } as AttrValue))) merged.push(x);
        item[name] = { [kind]: merged } as AttrValue;
      } else {
        throw updateError(`Incorrect operand type for operator or function; operator: ADD, operand type: ${typeOf(operand)}`);
      }
    } else {
      const kind = setKind(operand);
      if (!kind) throw updateError(`Incorrect operand type for operator or function; operator: DELETE, operand type: ${typeOf(operand)}`);
      if (current === undefined) continue;
      if (setKind(current) !== kind) throw validationException('An operand in the update expression has an incorrect data type');
      const remaining = (current[kind] as unknown[]).filter((m) => !(operand[kind] as unknown[]).some((x) => valuesEqual({ [kind]: [m] } as AttrValue, { [kind]: [x] } as AttrValue)));
      if (remaining.length === 0) delete item[name];
      else item[name] = { [kind]: remaining } as AttrValue;
    }
  }
  return item;
}

/** The document paths an update writes (for ReturnValues UPDATED_OLD / UPDATED_NEW). */
export function updatedPaths(actions: readonly UpdateAction[]): DocumentPath[] {
  return actions.map((a) => a.path);
}

// ---------------------------------------------------------------------------------------------
// Projections
// ---------------------------------------------------------------------------------------------

/** Parses a projection expression (comma-separated document paths). */
export function parseProjection(text: string, ctx: ExpressionContext): DocumentPath[] {
  if (!text.trim()) throw validationException('Invalid ProjectionExpression: The expression can not be empty;');
  const s = new TokenStream(tokenize(text, 'ProjectionExpression'), 'ProjectionExpression', ctx);
  const paths: DocumentPath[] = [s.path()];
  while (s.isPunct(',')) { s.next(); paths.push(s.path()); }
  if (!s.atEnd()) throw s.syntaxError();
  checkNoOverlap(paths, 'ProjectionExpression');
  return paths;
}

type ProjectionNode =
  | { readonly kind: 'leaf'; readonly value: AttrValue }
  | { readonly kind: 'map'; readonly children: Map<string, ProjectionNode> }
  | { readonly kind: 'list'; readonly children: Map<number, ProjectionNode> };

function renderProjection(node: ProjectionNode): AttrValue {
  switch (node.kind) {
    case 'leaf': return deepClone(node.value);
    case 'map': return { M: Object.fromEntries([...node.children].map(([k, v]) => [k, renderProjection(v)])) };
    default: return { L: [...node.children].sort((a, b) => a[0] - b[0]).map(([, v]) => renderProjection(v)) };
  }
}

/** The parts of an item at the given paths: nested maps keep their shape, selected list elements stay in index order. */
export function project(item: Item, paths: readonly DocumentPath[]): Item {
  const root: ProjectionNode = { kind: 'map', children: new Map() };
  for (const path of paths) {
    const value = getPath(item, path);
    if (value === undefined) continue;
    let node: ProjectionNode = root;
    path.forEach((segment, i) => {
      const children = node.kind === 'leaf' ? undefined : (node.children as Map<PathSegment, ProjectionNode>);
      if (!children) return;
      if (i === path.length - 1) {
        children.set(segment, { kind: 'leaf', value });
        return;
      }
      let next = children.get(segment);
      if (!next) {
        next = typeof path[i + 1] === 'number' ? { kind: 'list', children: new Map() } : { kind: 'map', children: new Map() };
        children.set(segment, next);
      }
      node = next;
    });
  }
  const rendered = renderProjection(root);
  return rendered.M ?? {};
}
