"""A short, seeded fuzz run: 200 mutated corpus files, each a BOM or UnusableInputError.

Every input runs in a worker capped at 1 GiB of address space and 10 s
(``tests/corpus/harness.py``); a traceback, a crash or a timeout fails the test and names the
input's index, which ``tests/fuzz/fuzz_reader.py`` regenerates from the same seed.
"""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path

from loading import load_module

HERE = Path(__file__).resolve().parent
RUNS = 200
SEED = 20261121


def test_reader_survives_mutated_corpus() -> None:
    harness = load_module("corpus_harness", HERE / "corpus" / "harness.py")
    fuzz = load_module("fuzz_reader", HERE / "fuzz" / "fuzz_reader.py")
    inputs = list(fuzz.mutated(RUNS, SEED))
    assert len(inputs) == RUNS
    requests = [{"data": base64.b64encode(d).decode(), "name": f"fuzz-{i}.xlsx"}
                for i, d in enumerate(inputs)]
    pool = harness.Pool(2)
    try:
        answers = pool.run_all(requests)
    finally:
        pool.close()
    bad = [(i, a) for i, a in enumerate(answers) if a.get("kind") not in ("bom", "unusable")]
    assert not bad, "\n".join(
        f"input {i} (seed {SEED}): {a.get('kind')} {a.get('type', '')} {a.get('message', '')}\n"
        f"{a.get('traceback', '')}" for i, a in bad[:5])
    kinds = Counter(a["kind"] for a in answers)
    # The mutator must reach past the sniffing: some inputs still read as workbooks.
    assert kinds["bom"] >= RUNS // 10, kinds
