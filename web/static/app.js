// The web UI's behaviour (loaded as a module by every page; no inline script anywhere).
//
// - #key-panel (/ui/keys): create, restore, back up or forget the key; sign in by signing
//   the page's challenge.
// - form.sign-form: build the statement from the form's body and inputs, show it (readable
//   and as the exact canonical bytes) before signing, sign it with the key in IndexedDB and
//   send {statement, sig} to /ui/statements.

import * as keys from "./keys.js";
import { canonicalize } from "./canonical.js";
import { buildStatement, signStatement, toBase64 } from "./statement.js";

const LABELS = {
  "task.apply": "Apply for a task",
  "contract.sign": "Sign a contract (binding)",
  "work.submit": "Submit work",
  "payment.confirm": "Confirm that you received a payment",
  "member.enroll": "Join a community",
  "member.leave": "Leave a community",
  "share.activate": "Sign a revenue-share agreement",
};

function csrf() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

async function postJson(url, value) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify(value),
    credentials: "same-origin",
  });
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = { message: `${response.status} ${response.statusText}` };
  }
  return { ok: response.ok, status: response.status, data };
}

function show(element, text, kind = "") {
  element.textContent = text;
  element.className = element.className.replace(/ ?(ok|error)$/, "") + (kind ? " " + kind : "");
}

// -- the key page -------------------------------------------------------------------------

async function keyPanel(panel) {
  const status = panel.querySelector(".key-status");
  const result = panel.querySelector(".key-result");
  const refresh = async () => {
    const key = await keys.current();
    panel.querySelector(".has-key").hidden = !key;
    panel.querySelector(".no-key").hidden = !!key;
    status.textContent = key ? "This browser holds your key." : "This browser holds no key yet.";
    if (key) panel.querySelector(".party-id").textContent = key.party;
    return key;
  };
  await refresh();

  panel.querySelector("#create-key").addEventListener("submit", async (event) => {
    event.preventDefault();
    const pass = panel.querySelector("#create-pass");
    show(result, "Creating your key…");
    try {
      await keys.create(pass.value);
      pass.value = "";
      await refresh();
      show(result, "Key created. Download its encrypted backup now and keep it safe.", "ok");
      panel.querySelector("#backup-button").focus();
    } catch (e) {
      show(result, String(e.message || e), "error");
    }
  });

  panel.querySelector("#restore-key").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = panel.querySelector("#restore-file").files[0];
    const pass = panel.querySelector("#restore-pass");
    if (!file) return;
    show(result, "Opening the backup…");
    try {
      await keys.restore(await file.text(), pass.value);
      pass.value = "";
      await refresh();
      show(result, "Key restored.", "ok");
    } catch (e) {
      show(result, String(e.message || e), "error");
    }
  });

  panel.querySelector("#backup-button")?.addEventListener("click", async () => {
    const text = await keys.backup();
    if (!text) return;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const key = await keys.current();
    link.download = `rdh-key-${key.party.slice(0, 12)}.json`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });

  panel.querySelector("#forget-button")?.addEventListener("click", async () => {
    if (!confirm("Remove the key from this browser? Without its backup it is lost.")) return;
    await keys.forget();
    await refresh();
    show(result, "The key was removed from this browser.");
  });

  panel.querySelector("#signin-button")?.addEventListener("click", async () => {
    const key = await keys.current();
    if (!key) return;
    const signer = toBase64(key.publicRaw);
    const message = new TextEncoder().encode(
      "rdh/web-signin/v1\n" +
        canonicalize({ challenge: panel.dataset.challenge, host: panel.dataset.host, signer }));
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, message));
    const answer = await postJson(panel.dataset.signin, { signer, sig: toBase64(sig) });
    if (answer.ok) {
      location.assign(panel.dataset.after);
    } else {
      show(result, answer.data.message || "Sign-in failed.", "error");
    }
  });
}

// -- statement forms ----------------------------------------------------------------------

function bodyOf(form, party) {
  const body = JSON.parse(form.dataset.body);
  if ("worker" in body) body.worker = party;
  for (const input of form.querySelectorAll("[data-body-field]")) {
    const name = input.dataset.bodyField;
    const value = input.value.trim();
    if (value === "" && input.dataset.optional) delete body[name];
    else body[name] = value;
  }
  return body;
}

function row(list, term, value) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value;
  list.append(dt, dd);
}

function readable(list, statement, party) {
  list.replaceChildren();
  row(list, "Action", `${LABELS[statement.type] || statement.type} (${statement.type})`);
  row(list, "Recorded by log", statement.log);
  row(list, "Signed by you", party);
  row(list, "Time (UTC)", statement.time);
  row(list, "Nonce", statement.nonce);
  for (const [name, value] of Object.entries(statement.body)) {
    row(list, name, value === null ? "none" : typeof value === "object" ? canonicalize(value) : String(value));
  }
}

async function signForm(form) {
  const key = await keys.current();
  const preview = form.querySelector(".statement-preview");
  const button = form.querySelector("button[type=submit]");
  const result = form.querySelector(".sign-result");
  if (!key) {
    preview.querySelector(".no-key").hidden = false;
    button.disabled = true;
    return;
  }
  let statement = null;
  const prepare = () => {
    statement = buildStatement({
      type: form.dataset.type,
      log: form.dataset.log,
      signerRaw: key.publicRaw,
      body: bodyOf(form, key.party),
    });
    readable(preview.querySelector(".readable"), statement, key.party);
    preview.querySelector(".canonical").textContent = canonicalize(statement);
  };
  prepare();
  form.addEventListener("input", prepare);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    show(result, "Signing…");
    try {
      const signed = await signStatement(statement, key.privateKey);
      const answer = await postJson("/ui/statements", signed);
      if (answer.ok) {
        const entry = answer.data.entries?.[0];
        show(result, entry ? `Recorded: entry ${entry.seq} (${entry.id.slice(0, 12)}…).`
          : `Signature kept: waiting for ${answer.data.waiting.length} more part${answer.data.waiting.length === 1 ? "y" : "ies"}.`, "ok");
        setTimeout(() => location.assign(form.dataset.next || location.href), 700);
      } else {
        show(result, answer.data.message || `Refused (${answer.status}).`, "error");
        button.disabled = false;
        prepare(); // a fresh nonce and time for a retry
      }
    } catch (e) {
      show(result, String(e.message || e), "error");
      button.disabled = false;
    }
  });
}

async function main() {
  const panel = document.querySelector("#key-panel");
  if (panel) await keyPanel(panel);
  for (const form of document.querySelectorAll("form.sign-form")) await signForm(form);
  document.body.dataset.ready = "1";
}

main().catch((e) => {
  document.body.dataset.ready = "error";
  console.error(e);
});
