"""The portal's transparency-log check (web/static/tlog.js) in Chromium, against proofs and
signed checkpoints made by the Python side: a true proof verifies; a modified entry, another
key or another tree size does not."""

from __future__ import annotations

import base64
import json
import secrets

from playwright.sync_api import Page
from web_world import Site

from simkyc.privacy.merkle import Frontier, build_proof, inclusion_ranges, leaf_hash
from simkyc.privacy.note import Checkpoint, Signer
from simkyc.privacy.proof import EntryProof

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
