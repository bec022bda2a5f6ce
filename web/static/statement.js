// Statements (docs/protocol.md §3): what a worker signs, built and signed in the browser.
//
// A statement is {v: 1, type, log, signer, time, nonce, body}; the signature is Ed25519 over
// "rdh/statement/v1\n" + the canonical bytes (canonical.js). The private key is a WebCrypto
// CryptoKey (keys.js); it is only ever passed to crypto.subtle.sign.

import { canonicalBytes, canonicalize } from "./canonical.js";

export const STATEMENT_PREFIX = new TextEncoder().encode("rdh/statement/v1\n");

export function toBase64(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

export function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function toBase64Url(bytes) {
  return toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The party id of a raw 32-byte public key: lowercase hex SHA-256. */
export async function partyId(publicRaw) {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", publicRaw)));
}

/** A ledger time (YYYY-MM-DDTHH:MM:SSZ) of a Date, in UTC. */
export function ledgerTime(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A fresh nonce: 16 random bytes, base64url without padding. */
export function newNonce() {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
}

export function buildStatement({ type, log, signerRaw, body, time = new Date(), nonce = newNonce() }) {
  return {
    v: 1,
    type,
    log,
    signer: toBase64(signerRaw),
    time: typeof time === "string" ? time : ledgerTime(time),
    nonce,
    body,
  };
}

/** The exact bytes signed: the prefix, then the canonical statement. */
export function signedMessage(statement) {
  const body = canonicalBytes(statement);
  const out = new Uint8Array(STATEMENT_PREFIX.length + body.length);
  out.set(STATEMENT_PREFIX);
  out.set(body, STATEMENT_PREFIX.length);
  return out;
}

export function canonicalText(statement) {
  return canonicalize(statement);
}

/** {statement, sig}: the signed statement the node's API takes. */
export async function signStatement(statement, privateKey) {
  const sig = await crypto.subtle.sign({ name: "Ed25519" }, privateKey, signedMessage(statement));
  return { statement, sig: toBase64(new Uint8Array(sig)) };
}
