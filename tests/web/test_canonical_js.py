"""web/static/canonical.js and statement.js in Chromium: the same vectors and bytes as Python.

Every case of tests/vectors/canonical.json: the JS parser refuses exactly the error cases,
and the JS canonical bytes equal `canonical_hex` (and `ledger.canonical.canonicalize`).
Extra Unicode and integer edge cases are canonicalised by both and compared byte for byte;
the JS signature of protocol.md's example B equals the documented one (Ed25519 is
deterministic), and a statement signed in the browser verifies in Python.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ledger.canonical import canonicalize
from ledger.statement import SignedStatement
from tests.web.conftest import ORIGIN, VECTORS

_RUN_VECTORS = """async (cases) => {
  const c = await import('/static/canonical.js');
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return cases.map((case_) => {
    const bytes = new TextEncoder().encode(case_.input);
    try {
      const value = c.parse(bytes);
      const out = hex(c.canonicalBytes(value));
      let again = null;
      try { again = hex(c.canonicalBytes(c.parse(c.canonicalBytes(value)))); }
      catch (e) { again = 'error'; }
      return {name: case_.name, ok: true, hex: out, again};
    } catch (e) {
      return {name: case_.name, ok: false, error: String(e), kind: e.constructor.name};
    }
  });
}"""


def test_js_matches_every_canonical_vector(static_page: Any) -> None:
    cases = json.loads((VECTORS / "canonical.json").read_text(encoding="utf-8"))
    results = static_page.evaluate(_RUN_VECTORS, cases)
    assert len(results) == len(cases) >= 80
    for case, result in zip(cases, results, strict=True):
        if case.get("error"):
            assert not result["ok"], f"{case['name']}: JS accepted {case['input']!r}"
            assert result["kind"] == "CanonicalError", result
        else:
            assert result["ok"], f"{case['name']}: {result.get('error')}"
            assert result["hex"] == case["canonical_hex"], case["name"]
            assert result["again"] == case["canonical_hex"], case["name"]


EDGE_VALUES: list[Any] = [
    {"\u2028": "\u2029", "/": "/", "\x7f": "\x7f", "é": "e\u0301"},
    ["\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f", '"\\'],
    {"\U0010ffff": 1, "\uffff": 2, "\ue000": 3, "\ud7ff": 4, "\U0001f600": 5, "\ufeff": 6},
    [9007199254740991, -9007199254740991, 0, -1, 1000000],
    {"a": {"b": {"c": [None, True, False, "", {}]}}},
    {"__proto__": 1, "constructor": 2, "toString": 3},
    "日本語のテキスト 🎉 ñ Ω",
]


def test_js_canonicalizes_like_python(static_page: Any) -> None:
    got = static_page.evaluate(
        """async (values) => {
          const c = await import('/static/canonical.js');
          return values.map((text) => Array.from(c.canonicalBytes(c.parseText(text))));
        }""",
        [json.dumps(v) for v in EDGE_VALUES],
    )
    for value, data in zip(EDGE_VALUES, got, strict=True):
        assert bytes(data) == canonicalize(value), value


def test_js_refuses_values_outside_ledger_json(static_page: Any) -> None:
    refused = static_page.evaluate(
        """async () => {
          const c = await import('/static/canonical.js');
          const bad = [1.5, 2 ** 53, NaN, Infinity, undefined, () => 1, '\\ud800', {k: '\\udc00'},
                       {'\\ud83d': 1}];
          let deep = []; for (let i = 0; i < 100; i++) deep = [deep];
          bad.push(deep);
          return bad.map((v) => {
            try { c.canonicalize(v); return false; } catch (e) { return true; }
          });
        }"""
    )
    assert refused == [True] * 10


# protocol.md §15 B: the worker key (seed 0x20..0x3f) signs the enrolment statement.
_WORKER_SEED = bytes(range(0x20, 0x40))
_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")
_EXAMPLE_SIG = (
    "KSvRvSjTbJPvykdjfGFnBKfdhX6Wldv+/lIwYjM2I0lJjzovTNnb7hBPQ2WjgZlH+YrQ/5rH0LsO3YEJ2XNuAg=="
)
_EXAMPLE = {
    "type": "member.enroll",
    "log": "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c",
    "time": "2026-11-25T15:04:05Z",
    "nonce": "YGFiY2RlZmdoaWprbG1ubw",
    "body": {
        "display_name": "Amara Osei",
        "engagement": "freelance",
        "worker": "24f6ed6acbfe1009c030d7ca567c33ca4830911498236b5561a6c82abec5de28",
    },
}

_SIGN_EXAMPLE = """async ([pkcs8b64, ex]) => {
  const s = await import('/static/statement.js');
  const key = await crypto.subtle.importKey('pkcs8', s.fromBase64(pkcs8b64), {name: 'Ed25519'},
                                             false, ['sign']);
  const jwkPair = await crypto.subtle.importKey('pkcs8', s.fromBase64(pkcs8b64), {name: 'Ed25519'},
                                                true, ['sign']);
  const jwk = await crypto.subtle.exportKey('jwk', jwkPair);
  const pub = Uint8Array.from(atob(jwk.x.replaceAll('-', '+').replaceAll('_', '/') + '='),
                              (c) => c.charCodeAt(0));
  const statement = s.buildStatement({type: ex.type, log: ex.log, signerRaw: pub, body: ex.body,
                                      time: ex.time, nonce: ex.nonce});
  const signed = await s.signStatement(statement, key);
  return {signed, party: await s.partyId(pub), extractable: key.extractable};
}"""


def test_js_signature_of_protocol_example_b(static_page: Any) -> None:
    pkcs8 = base64.b64encode(_PKCS8_PREFIX + _WORKER_SEED).decode()
    out = static_page.evaluate(_SIGN_EXAMPLE, [pkcs8, _EXAMPLE])
    assert out["extractable"] is False
    assert out["party"] == _EXAMPLE["body"]["worker"]  # type: ignore[index]
    assert out["signed"]["sig"] == _EXAMPLE_SIG
    assert out["signed"]["statement"]["signer"] == "Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc="
    SignedStatement.from_dict(out["signed"]).verify()


def test_statement_signed_with_a_fresh_browser_key_verifies_in_python(static_page: Any) -> None:
    out = static_page.evaluate(
        """async () => {
          const s = await import('/static/statement.js');
          const pair = await crypto.subtle.generateKey({name: 'Ed25519'}, false,
                                                       ['sign', 'verify']);
          const pub = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
          const st = s.buildStatement({type: 'task.apply', log: 'ab'.repeat(32), signerRaw: pub,
            body: {task: 'cd'.repeat(32), worker: await s.partyId(pub),
                   note: 'Ünïcödé ✓ \\u2028'}});
          return await s.signStatement(st, pair.privateKey);
        }"""
    )
    signed = SignedStatement.from_dict(out)
    signed.verify()
    assert len(base64.urlsafe_b64decode(out["statement"]["nonce"] + "==")) == 16


def test_origin_is_a_secure_context(static_page: Any) -> None:
    assert static_page.evaluate("() => window.isSecureContext") is True
    assert static_page.url.startswith(ORIGIN)
