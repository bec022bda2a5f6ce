// A worker's Ed25519 key, kept in this browser (DESIGN §2.5: it never reaches the server).
//
// - create(passphrase): a new key pair. The private key is exported once as PKCS#8, sealed
//   into an encrypted backup (PBKDF2-SHA-256, 600,000 rounds -> AES-256-GCM), then imported
//   again as a NON-extractable CryptoKey, which is what IndexedDB keeps for daily use.
// - backup(): the sealed backup file (JSON) to move the key to another device.
// - restore(file text, passphrase): open a backup and keep its key (non-extractable).
// - current(): {privateKey, publicRaw, party} or null; forget(): delete it from this browser.

import { fromBase64, partyId, toBase64 } from "./statement.js";

export const BACKUP_FORMAT = "rdh-key-backup/v1";
export const KDF_ROUNDS = 600000;
const DB = "rdh-keys";
const STORE = "keys";
const SLOT = "worker";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, action) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

async function wrappingKey(passphrase, salt, rounds) {
  const material = await crypto.subtle.importKey(
    "raw", new TextEncoder().encode(passphrase), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations: rounds },
    material, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

async function seal(pkcs8, publicRaw, passphrase) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await wrappingKey(passphrase, salt, KDF_ROUNDS);
  const aad = new TextEncoder().encode(BACKUP_FORMAT);
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, pkcs8);
  return {
    format: BACKUP_FORMAT,
    public_key: toBase64(publicRaw),
    kdf: { name: "PBKDF2-SHA-256", rounds: KDF_ROUNDS, salt: toBase64(salt) },
    cipher: { name: "AES-256-GCM", iv: toBase64(iv) },
    ciphertext: toBase64(new Uint8Array(sealed)),
  };
}

async function keep(pkcs8, publicRaw, backup) {
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  // the key must be the backup's: sign a probe and check it with the public key
  const probe = new TextEncoder().encode("rdh/key-check");
  const publicKey = await crypto.subtle.importKey("raw", publicRaw, { name: "Ed25519" }, true, ["verify"]);
  const sig = await crypto.subtle.sign({ name: "Ed25519" }, privateKey, probe);
  if (!(await crypto.subtle.verify({ name: "Ed25519" }, publicKey, sig, probe))) {
    throw new Error("the backup's private key does not match its public key");
  }
  const record = { privateKey, publicRaw, backup, created: new Date().toISOString() };
  await withStore("readwrite", (store) => store.put(record, SLOT));
  return { privateKey, publicRaw, party: await partyId(publicRaw) };
}

export async function create(passphrase) {
  if (!passphrase || passphrase.length < 8) throw new Error("choose a passphrase of at least 8 characters");
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  try {
    const backup = await seal(pkcs8, publicRaw, passphrase);
    return await keep(pkcs8, publicRaw, backup);
  } finally {
    pkcs8.fill(0);
  }
}

export async function restore(text, passphrase) {
  let backup;
  try {
    backup = JSON.parse(text);
  } catch {
    throw new Error("this is not an rdh key backup file");
  }
  if (backup?.format !== BACKUP_FORMAT) throw new Error("this is not an rdh key backup file");
  const key = await wrappingKey(passphrase, fromBase64(backup.kdf.salt), backup.kdf.rounds);
  let pkcs8;
  try {
    pkcs8 = new Uint8Array(await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(backup.cipher.iv), additionalData: new TextEncoder().encode(BACKUP_FORMAT) },
      key, fromBase64(backup.ciphertext)));
  } catch {
    throw new Error("the passphrase does not open this backup");
  }
  try {
    return await keep(pkcs8, fromBase64(backup.public_key), backup);
  } finally {
    pkcs8.fill(0);
  }
}

export async function current() {
  const record = await withStore("readonly", (store) => store.get(SLOT));
  if (!record) return null;
  return { privateKey: record.privateKey, publicRaw: record.publicRaw, party: await partyId(record.publicRaw) };
}

export async function backup() {
  const record = await withStore("readonly", (store) => store.get(SLOT));
  return record ? JSON.stringify(record.backup, null, 1) : null;
}

export async function forget() {
  await withStore("readwrite", (store) => store.delete(SLOT));
}
