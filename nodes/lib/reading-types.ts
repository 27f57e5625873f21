/**
 * What a reading validator takes and gives (CONTRACT §3): its options, the fallbacks for a missing
 * device id or time, the result and its error codes, and the limits both implementations apply.
 */
import { z } from 'zod';
import type { Reading } from './types';

/** Error codes of CONTRACT §3. */
export type ValidationCode =
  | 'not-an-object'
  | 'missing'
  | 'not-a-number'
  | 'out-of-range'
  | 'bad-timestamp'
  | 'bad-device-id'
  | 'too-large';

/** One problem of one input: `field` is the canonical key, or {@link WHOLE_INPUT}. */
export interface ValidationError {
  field: string;
  code: ValidationCode;
  message: string;
}

/** The `field` of an error about the input as a whole (`not-an-object`, `too-large`). */
export const WHOLE_INPUT = '*';

/** The outcome of one validation: exactly one of a reading or a non-empty error list. */
export type ValidationResult = { ok: true; reading: Reading } | { ok: false; errors: ValidationError[] };

/** Longest accepted `deviceId`, in UTF-16 code units. */
export const MAX_DEVICE_ID_LENGTH = 128;
/** Largest |timestamp| in ms: the range of a JavaScript Date. */
export const MAX_TIMESTAMP_MS = 8.64e15;
/** Default of `maxBytes`: 64 KiB, about 150 times a real reading. */
export const DEFAULT_MAX_BYTES = 65536;

/** Validator options. Every one is optional; the defaults are the contract's. */
export const ValidatorOptionsSchema = z
  .object({
    /**
     * An absent sensor key: `reject` (error `missing`, the default), `null` (keep as null) or `fill`
     * (use the default of {@link SENSOR_FIELDS}; in this mode a `null` value is filled too).
     */
    missing: z.enum(['reject', 'null', 'fill']).default('reject'),
    /** A value outside its range: `reject` (error `out-of-range`, the default) or `replace` by its default. */
    outOfRange: z.enum(['reject', 'replace']).default('reject'),
    /** Approximate size limit of an input in characters (see {@link approxSize}); `0` = no limit. */
    maxBytes: z.number().int().min(0).default(DEFAULT_MAX_BYTES),
  })
  .strict();

export type ValidatorOptions = z.input<typeof ValidatorOptionsSchema>;
export type ResolvedValidatorOptions = z.output<typeof ValidatorOptionsSchema>;

/**
 * Values used when the input has no `deviceId` / `timestamp` (or has them as `null`). The lib never
 * reads a clock: the caller passes its arrival time.
 */
export interface Fallbacks {
  /** Kafka record key (first choice for `deviceId`): a valid device id (string or safe integer) or ignored. */
  key?: unknown;
  /** `msg.topic` (second choice for `deviceId`, before `"default"`). */
  topic?: unknown;
  /** Kafka record timestamp, epoch ms as a number or numeric text (first choice for `timestamp`). */
  timestamp?: unknown;
  /** Arrival time, epoch ms (second choice for `timestamp`). */
  arrival?: number;
}

export interface ReadingValidator {
  readonly options: Readonly<ResolvedValidatorOptions>;
  /** Validate one input. Never throws on data, never mutates `input`. */
  validate(input: unknown, fallbacks?: Fallbacks): ValidationResult;
}
