/**
 * The byte writer of CSV rows: text and numbers written as UTF-8 into one growing buffer, so that a
 * batch of readings rows costs no string per number or row (the readings layout's fast path).
 */
import { NULL_CELL, cell } from './csv-cells';

/** 10^i for i = 0 … 15: the digit count of a whole number (from 2^31 up) below 10^15. */
const POW10: readonly number[] = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** Bytes a number's text can take: "-1.2345678901234567e-308" is 24. */
const MAX_NUMBER_BYTES = 32;
/** A buffer grown past this by one large batch is let go after its text is taken. */
const KEEP_BYTES = 1 << 20;

/**
 * CSV text written as UTF-8 bytes into one growing buffer, for the rows of the readings file: the
 * 15 numbers of a row are written digit by digit, where building them as strings (and the row by
 * concatenation) would allocate some 30 strings per row, which the garbage collector then has to
 * reclaim. {@link take} reads the text back as one flat string.
 *
 * Numbers are written exactly as `String(n)` (see {@link numberText}): whole numbers up to 10^12 and
 * numbers with at most three decimals below 10^12 from their digits, anything else as String(n).
 */
export class CsvBytes {
  private buf: Buffer;
  private pos = 0;
  /** Every byte written so far is below 0x80: the text then reads back as latin1 (no decoding). */
  private ascii = true;

  constructor(private readonly initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written since the last {@link take}. */
  get length(): number {
    return this.pos;
  }

  /** The text written since the last take, as one flat string; the buffer is then empty again. */
  take(): string {
    const text = this.buf.toString(this.ascii ? 'latin1' : 'utf8', 0, this.pos);
    this.pos = 0;
    this.ascii = true;
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafe(this.initialBytes);
    return text;
  }

  /**
   * The bytes written since the last take, as a buffer of their own; the buffer is then empty again.
   * What a file gets: the text is never decoded nor encoded again.
   */
  takeBytes(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    this.ascii = true;
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafe(this.initialBytes);
    return out;
  }

  private grow(n: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** One ASCII character (a separator or a line end). */
  byte(c: number): void {
    if (this.pos === this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
  }

  /** Text as it is (UTF-8): a cell that is already quoted and neutralised, or a number's text. */
  text(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.utf8(s);
        return;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  private utf8(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    if (this.pos + n > this.buf.length) this.grow(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.ascii = false;
  }

  /** A number, exactly as `String(n)` writes it. */
  number(n: number): void {
    this.numberThen(n, -1);
  }

  /**
   * A sensor cell of the readings file and the separator after it (`sep`: a character code, or -1 for
   * none): a number as {@link number}, null as NULL, anything else as its {@link cell}.
   */
  sensor(v: unknown, sep: number): void {
    if (typeof v === 'number') this.numberThen(v, sep);
    else {
      this.text(v === null ? NULL_CELL : cell(v));
      if (sep >= 0) this.byte(sep);
    }
  }

  /** {@link number}, then the character `sep` unless it is -1 (one bounds check for both). */
  numberThen(n: number, sep: number): void {
    if (this.pos + MAX_NUMBER_BYTES > this.buf.length) this.grow(MAX_NUMBER_BYTES);
    const buf = this.buf;
    let p = this.pos;
    const a = n < 0 ? -n : n;
    // Whole numbers and numbers with up to three decimals below 10^12: m thousandths exactly (see
    // thousandthsText for why m / 1000 === a makes this String's text). -0 is written "0", as String.
    const m = a < 1e12 ? Math.round(a * 1000) : NaN;
    if (m / 1000 !== a) {
      this.text(String(n));
      if (sep >= 0) this.byte(sep);
      return;
    }
    if (n < 0) buf[p++] = 45; // '-'
    // Whole part and thousandths without %, which on doubles is a call to fmod; exact, as m < 10^15.
    const v = Math.floor(m / 1000);
    const f = m - v * 1000;
    if (v <= 0x7fffffff) {
      // Int32 arithmetic (a division by 10 becomes a multiplication); a double's % is a call to fmod.
      let x = v | 0;
      // Digits, smallest first: sensor values mostly have 1 to 5.
      const len = x < 10 ? 1 : x < 100 ? 2 : x < 1e3 ? 3 : x < 1e4 ? 4 : x < 1e5 ? 5 : x < 1e6 ? 6 : x < 1e7 ? 7 : x < 1e8 ? 8 : x < 1e9 ? 9 : 10;
      p += len;
      for (let i = p - 1; i >= p - len; i--) {
        const q = (x / 10) | 0;
        buf[i] = 48 + x - q * 10;
        x = q;
      }
    } else {
      let len = 10;
      while (len < 13 && v >= POW10[len]) len++;
      p += len;
      let x = v;
      for (let i = p - 1; i >= p - len; i--) {
        const q = Math.floor(x / 10);
        buf[i] = 48 + x - q * 10;
        x = q;
      }
    }
    if (f !== 0) {
      // The fraction's digits without trailing zeros: 500 → ".5", 50 → ".05", 945 → ".945".
      const g = f | 0;
      const d1 = (g / 100) | 0;
      const d2 = ((g / 10) | 0) - d1 * 10;
      const d3 = g - ((g / 10) | 0) * 10;
      buf[p++] = 46; // '.'
      buf[p++] = 48 + d1;
      if (d2 !== 0 || d3 !== 0) {
        buf[p++] = 48 + d2;
        if (d3 !== 0) buf[p++] = 48 + d3;
      }
    }
    if (sep >= 0) buf[p++] = sep;
    this.pos = p;
  }
}
