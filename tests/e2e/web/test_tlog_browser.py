"""The portal's transparency-log check (web/static/tlog.js) in Chromium, against proofs and
signed checkpoints made by the Python side: a true proof verifies; a modified entry, another
key or another tree size does not; a checkpoint that forks from one the browser kept is
shown as a warning."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime

import httpx
from playwright.sync_api import Page, Route, expect
from web_world import Inputs, Site, line_from_a_shop, person

from simkyc.auth.actors import SYSTEM
from simkyc.privacy import audit
from simkyc.privacy.merkle import (
    Frontier,
    Span,
    build_proof,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from simkyc.privacy.note import Checkpoint, Signer
from simkyc.privacy.proof import EntryProof
from simkyc.privacy.tlog import integrate

CHECK = """async ({cases, vkey}) => {
  const log = await import("/web/static/tlog.js");
  const out = [];
  for (const [proof, key] of cases) out.push(await log.verifyEntry(proof, key || vkey));
  return out;
}"""


def proof_for(index: int, entries: list[str], signer: Signer) -> EntryProof:
    frontier, kept = Frontier(), {}
    for entry in entries:
        kept.update(frontier.append(leaf_hash(entry.encode())))
    size = len(entries)
    note = signer.sign(Checkpoint(origin=signer.name, size=size, root=frontier.root()))
    hashes = build_proof(inclusion_ranges(index, size), lambda w: {s: kept[s] for s in w})
    return EntryProof(entry=entries[index], index=index, tree_size=size,
                      inclusion=tuple(hashes), checkpoint=note, vkey=signer.verifier.encode())


def test_the_browser_verifies_true_proofs_and_refuses_altered_ones(page: Page,
                                                                   site: Site) -> None:
    signer = Signer("simkyc.test/audit", secrets.token_bytes(32))
    other = Signer("simkyc.test/audit", secrets.token_bytes(32)).verifier.encode()
    entries = [json.dumps({"seq": i, "action": "person.read", "purpose": "oversight"})
               for i in range(1, 12)]
    cases = []
    for index in (0, 5, 10):
        good = proof_for(index, entries, signer).to_json()
        cases.append([good, None])
    bad = {**cases[1][0], "entry": cases[1][0]["entry"].replace("oversight", "dispute")}
    swapped = {**cases[1][0], "index": 6}
    note = cases[1][0]["checkpoint"].split("\n")
    note[2] = base64.b64encode(bytes(32)).decode()  # another root, the old signature
    forged_root = {**cases[1][0], "checkpoint": "\n".join(note)}
    cases += [[bad, None], [cases[0][0], other], [swapped, None],
              [{**cases[2][0], "tree_size": 12}, None], [forged_root, None]]
    page.goto(f"{site.url}/web/citizen")
    verdicts = page.evaluate(CHECK, {"cases": cases, "vkey": signer.verifier.encode()})
    assert verdicts == [True, True, True, False, False, False, False, False]


SIZES = """async (cases) => {
  const log = await import("/web/static/tlog.js");
  const b64 = (t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
  const out = [];
  for (const [leaf, index, size, proof, root] of cases) {
    out.push(await log.verifyInclusion(b64(leaf), index, size, proof.map(b64), b64(root)));
  }
  return out;
}"""


def test_the_browser_agrees_with_python_on_every_index_of_trees_up_to_300(
        page: Page, site: Site) -> None:
    """RFC 9162 inclusion for every (index, size) with size 1..300, the tree grown leaf by
    leaf as the integrator does: the browser's verdict is Python's (true for every one)."""
    b = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    frontier, kept, leaves, cases, expected = Frontier(), {}, [], [], []
    for size in range(1, 301):
        leaf = leaf_hash(f"entry {size}".encode())
        leaves.append(leaf)
        kept.update(frontier.append(leaf))
        root = frontier.root()
        for index in range(size):
            hashes = build_proof(inclusion_ranges(index, size), lambda w: {s: kept[s] for s in w})
            expected.append(verify_inclusion(leaf=leaves[index], index=index, size=size,
                                             proof=hashes, root=root))
            cases.append([b(leaves[index]), index, size, [b(h) for h in hashes], b(root)])
    assert all(expected)
    page.goto(f"{site.url}/web/citizen")
    verdicts = page.evaluate(SIZES, cases)
    wrong = [c[1:3] for c, v, e in zip(cases, verdicts, expected, strict=True) if v != e]
    assert wrong == []


def _signer_whose_key(*, has_plus: bool) -> Signer:
    """A log key (fixed seed) whose base64 part does, or does not, hold a "+"."""
    for n in range(256):
        signer = Signer("simkyc.test/audit", bytes([n]) * 32)
        if ("+" in signer.verifier.encode().split("+", 2)[2]) == has_plus:
            return signer
    raise AssertionError("no such seed")


def test_the_browser_reads_log_keys_whose_base64_holds_a_plus(page: Page, site: Site) -> None:
    """A verifier key is name+hash+base64, and base64 has "+" among its digits: the key is
    split at its first two "+" (as note.VerifierKey.decode does), whatever the key is."""
    entries = [json.dumps({"seq": i, "action": "line.registered"}) for i in range(1, 40)]
    cases = []
    for has_plus in (True, False):
        signer = _signer_whose_key(has_plus=has_plus)
        cases += [[proof_for(i, entries, signer).to_json(), signer.verifier.encode()]
                  for i in (0, 17, 38)]
    page.goto(f"{site.url}/web/citizen")
    assert page.evaluate(CHECK, {"cases": cases, "vkey": ""}) == [True] * 6


PORTAL = """async (token) => {
  const log = await import("/web/static/tlog.js");
  const get = async (path) => (await fetch(path, {headers: {Authorization: `Bearer ${token}`}}))
    .json();
  const accesses = await get("/v1/me/accesses");
  const vkey = log.trustedKey((await get("/v1/audit/checkpoint")).vkey);
  const out = [];
  for (const a of accesses) {
    if (!a.proof) continue;
    out.push([a.action, log.matches(a, a.proof) && await log.verifyEntry(a.proof, vkey)]);
  }
  return {vkey, out};
}"""


def test_the_portal_check_verifies_every_access_of_a_real_citizen(page: Page, site: Site,
                                                                   inputs: Inputs) -> None:
    """Real entries through the running site (a line, a self-service session, the citizen's
    token), integrated and signed by the site's log key: the portal's check (citizen.js's
    `matches` and `verifyEntry`, the key pinned by `trustedKey`) verifies every one."""
    line_from_a_shop(site, inputs)
    agent, reviewer = site.keys["agent"], site.keys["reviewer"]
    with httpx.Client(base_url=site.url, timeout=120) as client:
        api = site.shop(client, inputs)
        selfservice = api.approved(agent, reviewer, person(inputs.card), purpose="self_service")
        token = api.ok("POST", f"/v1/proofing-sessions/{selfservice}/citizen-token",
                       agent)["token"]
    with site.services.sessions() as db:
        integrate(db, keys=site.services.log_keys, now=datetime.now(UTC))
    page.goto(f"{site.url}/web/citizen")
    checked = page.evaluate(PORTAL, token)
    assert ["line.registered", True] in checked["out"], checked
    assert all(ok for _, ok in checked["out"]), checked


CONSISTENT = """async (cases) => {
  const log = await import("/web/static/tlog.js");
  const b64 = (t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
  const out = [];
  for (const [m, n, oldRoot, newRoot, proof] of cases) {
    out.push(await log.verifyConsistency(m, n, b64(oldRoot), b64(newRoot), proof.map(b64)));
  }
  return out;
}"""


def _grown(leaves: list[bytes]) -> tuple[list[bytes], dict[Span, bytes]]:
    """The root at every size and every stored span, the tree grown leaf by leaf."""
    frontier, kept, roots = Frontier(), {}, []
    for leaf in leaves:
        kept.update(frontier.append(leaf))
        roots.append(frontier.root())
    return roots, kept


def test_the_browser_agrees_with_python_on_consistency_proofs(page: Page, site: Site) -> None:
    """RFC 9162 consistency for every 1 <= m <= n <= 40: true proofs hold in the browser as in
    Python; a proof to a rewritten tree (another first leaf) holds in neither."""
    b = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    roots, kept = _grown([leaf_hash(f"entry {i}".encode()) for i in range(40)])
    forged, _ = _grown([leaf_hash(b"rewritten")] + [leaf_hash(f"entry {i}".encode())
                                                   for i in range(1, 40)])
    cases, expected = [], []
    for n in range(1, 41):
        for m in range(1, n + 1):
            proof = [b(h) for h in build_proof(consistency_ranges(m, n),
                                               lambda w: {s: kept[s] for s in w})]
            for old_root in (roots[m - 1], forged[m - 1]):
                expected.append(verify_consistency(old_size=m, new_size=n, old_root=old_root,
                                                   new_root=roots[n - 1], proof=[
                                                       base64.b64decode(h) for h in proof]))
                cases.append([m, n, b(old_root), b(roots[n - 1]), proof])
    assert expected == [True, False] * (len(cases) // 2)
    page.goto(f"{site.url}/web/citizen")
    assert page.evaluate(CONSISTENT, cases) == expected


KEPT = """(origin) => JSON.parse(localStorage.getItem("simkyc.log-checkpoints:" + origin) || "[]")
  .map((c) => c.size)"""


def test_the_portal_warns_when_the_log_forks_from_a_checkpoint_it_kept(
        page: Page, site: Site, inputs: Inputs) -> None:
    """The citizen signs in: the portal keeps the log's checkpoint. The log grows honestly:
    the next checkpoint is proven consistent, kept, and no warning shows. Then the server
    serves a checkpoint of a rewritten history, signed with the log's own key, and a
    consistency proof from that history: the portal shows the fork warning and keeps the
    checkpoint it had."""
    keys = site.services.log_keys
    line_from_a_shop(site, inputs)  # self-service is for a person who holds lines
    with httpx.Client(base_url=site.url, timeout=120) as client:
        api = site.shop(client, inputs)
        approved = api.approved(site.keys["agent"], site.keys["reviewer"], person(inputs.card),
                                purpose="self_service")
        token = api.ok("POST", f"/v1/proofing-sessions/{approved}/citizen-token",
                       site.keys["agent"])["token"]
    with site.services.sessions() as db:
        integrate(db, keys=keys, now=datetime.now(UTC))
    page.goto(f"{site.url}/web/citizen")
    page.get_by_text("A shop gave me a sign-in code").click()
    page.get_by_label("Sign-in code").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#accesses")).to_contain_text("You signed in")
    page.wait_for_function(f"() => ({KEPT})({json.dumps(keys.origin)}).length === 1")
    first = page.evaluate(KEPT, keys.origin)[0]
    expect(page.locator("#log-fork")).to_be_hidden()

    # The log grows past what the portal kept. (The sign-in's own audit entry may already be
    # in that checkpoint: the served app integrates in the background too.)
    with site.services.sessions() as db:
        audit.append(db, actor=SYSTEM, action=audit.AuditAction.PERSON_READ,
                     purpose=audit.AccessPurpose.OVERSIGHT, subject_id=None, object_id=None,
                     now=datetime.now(UTC))
        db.commit()
    with site.services.sessions() as db:
        integrate(db, keys=keys, now=datetime.now(UTC))  # None if the app's integrator was first
    page.select_option("#language", "zh-CN")  # the accesses are shown (and checked) again
    page.wait_for_function(f"() => ({KEPT})({json.dumps(keys.origin)}).at(-1) > {first}")
    expect(page.locator("#log-fork")).to_be_hidden()
    kept = page.evaluate(KEPT, keys.origin)

    size = kept[-1] + 3  # a rewritten history, larger than anything kept, signed by the key
    roots, nodes = _grown([leaf_hash(f"rewritten {i}".encode()) for i in range(size)])
    note = keys.signer.sign(Checkpoint(origin=keys.origin, size=size, root=roots[-1]))
    head = {"note": note, "origin": keys.origin, "size": size,
            "root": base64.b64encode(roots[-1]).decode(),
            "vkey": keys.verifiers[keys.signer_id].encode()}
    asked: list[str] = []

    def consistency(route: Route) -> None:
        asked.append(route.request.url)
        query = dict(p.split("=") for p in route.request.url.split("?")[1].split("&"))
        proof = build_proof(consistency_ranges(int(query["first"]), int(query["second"])),
                            lambda w: {s: nodes[s] for s in w})
        route.fulfill(json={"hashes": [base64.b64encode(h).decode() for h in proof]})

    page.route("**/v1/audit/checkpoint", lambda route: route.fulfill(json=head))
    page.route("**/v1/audit/proof/consistency?*", consistency)
    page.select_option("#language", "en")
    expect(page.locator("#log-fork")).to_be_visible()
    expect(page.locator("#log-fork")).to_contain_text("contradicts the log this browser saw")
    assert asked and f"first={kept[-1]}&second={size}" in asked[-1]
    assert page.evaluate(KEPT, keys.origin) == kept  # the forked checkpoint is not kept
