/**
 * Numeric arithmetic for `$inc`, `$mul` and `$bit` with MongoDB's type rules
 * (its SafeNum class): the result type is the "widest" operand type in the
 * order int32 < int64 < double < decimal, except that an int32 result which
 * overflows widens to int64, and an int64 overflow is an error rather than a
 * silent wrap or a lossy double.
 */
import { Decimal128, Long } from 'bson';
import { toDouble } from '../bson-values.js';
import {
  decimalAdd, decimalFromBigInt, decimalFromDouble, decimalMultiply, decimalValue, toDecimal128,
  type DecimalValue,
} from './update-decimal.js';

export type NumericKind = 'int' | 'long' | 'double' | 'decimal';
export type ArithmeticOp = 'add' | 'multiply';
export type BitwiseOp = 'and' | 'or' | 'xor';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const ORDER: NumericKind[] = ['int', 'long', 'double', 'decimal'];

/** The BSON numeric type of a value in the in-memory representation, if it is a number. */
export function numericKind(value: unknown): NumericKind | undefined {
  if (typeof value === 'number') {
    // bson writes an integral number in int32 range as Int32, and anything else (-0 too) as Double.
    return Number.isInteger(value) && (value | 0) === value && !Object.is(value, -0) ? 'int' : 'double';
  }
  if (value === null || typeof value !== 'object') return undefined;
  switch ((value as { _bsontype?: string })._bsontype) {
    case 'Int32': return 'int';
    case 'Long': return 'long';
    case 'Double': return 'double';
    case 'Decimal128': return 'decimal';
    default: return undefined;
  }
}

function asBigInt(value: unknown): bigint {
  if (typeof value === 'number') return BigInt(value);
  if ((value as { _bsontype?: string })._bsontype === 'Long') return (value as Long).toBigInt();
  return BigInt((value as { value: number }).value);
}

function asNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if ((value as { _bsontype?: string })._bsontype === 'Long') return Number((value as Long).toBigInt());
  return (value as { value: number }).value;
}

function asDecimal(value: unknown, kind: NumericKind): DecimalValue {
  if (kind === 'decimal') return decimalValue(value as Decimal128);
  if (kind === 'double') return decimalFromDouble(asNumber(value));
  return decimalFromBigInt(asBigInt(value));
}

function wider(a: NumericKind, b: NumericKind): NumericKind {
  return ORDER[Math.max(ORDER.indexOf(a), ORDER.indexOf(b))];
}

/** An exact integer result as int32 when it fits, else int64; undefined past int64. */
function integerResult(n: bigint, allowInt32: boolean): unknown {
  if (allowInt32 && n >= -2147483648n && n <= 2147483647n) return Number(n);
  if (n < INT64_MIN || n > INT64_MAX) return undefined;
  return Long.fromBigInt(n);
}

/**
 * `a op b` with MongoDB's result type, or undefined when the result is not
 * representable (int64 overflow). Both operands must be numeric.
 */
export function applyArithmetic(op: ArithmeticOp, a: unknown, b: unknown): unknown {
  const kind = wider(numericKind(a)!, numericKind(b)!);
  if (kind === 'decimal') {
    const x = asDecimal(a, numericKind(a)!);
    const y = asDecimal(b, numericKind(b)!);
    return toDecimal128(op === 'add' ? decimalAdd(x, y) : decimalMultiply(x, y));
  }
  if (kind === 'double') {
    const x = asNumber(a);
    const y = asNumber(b);
    return toDouble(op === 'add' ? x + y : x * y);
  }
  const x = asBigInt(a);
  const y = asBigInt(b);
  return integerResult(op === 'add' ? x + y : x * y, kind === 'int');
}

/** True for Int32 and Int64 values, the only types `$bit` accepts. */
export function isIntegral(value: unknown): boolean {
  const kind = numericKind(value);
  return kind === 'int' || kind === 'long';
}

/** `a op b` bitwise on int32/int64 values; int64 if either operand is. */
export function applyBitwise(op: BitwiseOp, a: unknown, b: unknown): unknown {
  const x = asBigInt(a);
  const y = asBigInt(b);
  const r = op === 'and' ? x & y : op === 'or' ? x | y : x ^ y;
  if (numericKind(a) === 'int' && numericKind(b) === 'int') return Number(BigInt.asIntN(32, r));
  return Long.fromBigInt(BigInt.asIntN(64, r));
}

/** SafeNum::debugString, which MongoDB quotes in overflow errors: "(NumberLong)9223372036854775807". */
export function numericDebugString(value: unknown): string {
  switch (numericKind(value)) {
    case 'int': return `(NumberInt)${asNumber(value)}`;
    case 'long': return `(NumberLong)${asBigInt(value)}`;
    case 'double': return `(NumberDouble)${asNumber(value)}`;
    case 'decimal': return `(NumberDecimal)${(value as Decimal128).toString()}`;
    default: return '(EOO)';
  }
}
