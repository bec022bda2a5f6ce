// rdh canonical JSON in the browser: the ledger JSON subset (docs/protocol.md §1), RFC 8785.
//
// parse(bytes)        strict reader: UTF-8 without BOM, no duplicate keys (after unescaping),
//                     integers only within ±(2^53 - 1), no lone surrogates, depth <= 100.
// canonicalize(value) the RFC 8785 text of a ledger JSON value (keys in UTF-16 order).
// canonicalBytes(v)   the same as UTF-8 bytes: what is signed and stored.
//
// Hand-written so that the bytes a worker signs are the bytes Python (ledger/canonical.py)
// produces; tested in Chromium against tests/vectors/canonical.json (tests/web/).

export const MAX_SAFE_INTEGER = 9007199254740991;
export const MAX_DEPTH = 100;

export class CanonicalError extends Error {}

function fail(message) {
  throw new CanonicalError(message);
}

function wellFormed(text) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

class Reader {
  constructor(text) {
    this.text = text;
    this.pos = 0;
  }

  ws() {
    while (this.pos < this.text.length && WS.has(this.text.charCodeAt(this.pos))) this.pos++;
  }

  value(depth) {
    this.ws();
    const ch = this.text[this.pos];
    if (ch === "{") return this.object(depth + 1);
    if (ch === "[") return this.array(depth + 1);
    if (ch === '"') return this.string();
    if (ch === "-" || (ch >= "0" && ch <= "9")) return this.number();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]]) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return fail(`unexpected ${ch === undefined ? "end of input" : JSON.stringify(ch)} at ${this.pos}`);
  }

  object(depth) {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    this.pos++;
    const out = Object.create(null);
    const seen = new Set();
    this.ws();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') fail(`expected a key at ${this.pos}`);
      const key = this.string();
      if (seen.has(key)) fail(`duplicate key ${JSON.stringify(key)}`);
      seen.add(key);
      this.ws();
      if (this.text[this.pos] !== ":") fail(`expected ':' at ${this.pos}`);
      this.pos++;
      out[key] = this.value(depth);
      this.ws();
      const ch = this.text[this.pos++];
      if (ch === "}") return out;
      if (ch !== ",") fail(`expected ',' or '}' at ${this.pos - 1}`);
    }
  }

  array(depth) {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    this.pos++;
    const out = [];
    this.ws();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.ws();
      const ch = this.text[this.pos++];
      if (ch === "]") return out;
      if (ch !== ",") fail(`expected ',' or ']' at ${this.pos - 1}`);
    }
  }

  string() {
    this.pos++;
    let out = "";
    for (;;) {
      if (this.pos >= this.text.length) fail("unterminated string");
      const ch = this.text[this.pos++];
      if (ch === '"') break;
      if (ch.charCodeAt(0) < 0x20) fail("a control character in a string must be escaped");
      if (ch !== "\\") {
        out += ch;
        continue;
      }
      const esc = this.text[this.pos++];
      if (esc === "u") {
        const hex = this.text.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("a \\u escape needs four hex digits");
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 4;
      } else if (esc !== undefined && Object.hasOwn(ESCAPES, esc)) {
        out += ESCAPES[esc];
      } else {
        fail(`invalid escape \\${esc ?? ""}`);
      }
    }
    if (!wellFormed(out)) fail("a string holds an unpaired surrogate");
    return out;
  }

  number() {
    const match = /^-?(?:0|[1-9][0-9]*)/.exec(this.text.slice(this.pos, this.pos + 40));
    if (match === null) return fail(`invalid number at ${this.pos}`);
    this.pos += match[0].length;
    const next = this.text[this.pos];
    if (next === "." || next === "e" || next === "E") fail("only integers are allowed (no fraction or exponent)");
    if (next >= "0" && next <= "9") fail("number too long");
    const digits = match[0].replace("-", "");
    const value = Number(match[0]);
    if (digits.length > 16 || !Number.isSafeInteger(value)) fail("integer beyond ±(2^53 - 1)");
    return value === 0 ? 0 : value;
  }
}

/** Parse ledger JSON text (a string) strictly. */
export function parseText(text) {
  if (text.charCodeAt(0) === 0xfeff) fail("a byte order mark is not allowed");
  const reader = new Reader(text);
  const value = reader.value(0);
  reader.ws();
  if (reader.pos !== text.length) fail(`trailing data at ${reader.pos}`);
  return value;
}

/** Parse ledger JSON bytes (a Uint8Array of UTF-8) strictly. */
export function parse(bytes) {
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail("the bytes are not valid UTF-8");
  }
  return parseText(text);
}

function quote(text) {
  if (!wellFormed(text)) fail("a string holds an unpaired surrogate");
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0c) out += "\\f";
    else if (c === 0x0d) out += "\\r";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

function write(value, depth) {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) fail(`${value} is not an integer within ±(2^53 - 1)`);
    return String(value);
  }
  if (typeof value === "string") return quote(value);
  if (typeof value !== "object") fail(`a ${typeof value} is not a ledger JSON value`);
  if (depth + 1 > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
  if (Array.isArray(value)) return "[" + value.map((v) => write(v, depth + 1)).join(",") + "]";
  // Array.prototype.sort compares strings by UTF-16 code units: RFC 8785's key order.
  const keys = Object.keys(value).sort();
  return "{" + keys.map((k) => quote(k) + ":" + write(value[k], depth + 1)).join(",") + "}";
}

/** The RFC 8785 canonical text of a ledger JSON value. */
export function canonicalize(value) {
  return write(value, 0);
}

/** The canonical UTF-8 bytes of a ledger JSON value. */
export function canonicalBytes(value) {
  return new TextEncoder().encode(canonicalize(value));
}
