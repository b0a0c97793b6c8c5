"""No warning is silenced wholesale: a ``simplefilter`` / ``filterwarnings`` that ignores
warnings must name the one category it stands in for (whose message is then reported in
another form, e.g. the chain-length advice), so that e.g. KamLAND's "the built-in summary
cannot see NSI" is never hidden inside per-region runs (issue #18)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLANKET = re.compile(r"(simplefilter|filterwarnings)\(\s*[\"']ignore[\"']\s*\)")


def test_no_blanket_warning_filters_in_the_code():
    offenders = []
    for folder in ("globalfit", "likelihoods", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if BLANKET.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "warnings silenced wholesale:\n" + "\n".join(offenders)


ANY_IGNORE = re.compile(r"(simplefilter|filterwarnings)\(\s*[\"']ignore[\"']")


def test_the_product_silences_no_warning_at_all():
    """globalfit and the likelihoods ignore no warning, not even one named category: the CLI
    shows every distinct warning once, as one line (benchmarks may name what they ignore)."""
    offenders = []
    for folder in ("globalfit", "likelihoods"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if ANY_IGNORE.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "warnings silenced:\n" + "\n".join(offenders)


def test_the_pattern_catches_a_blanket_filter():
    assert BLANKET.search('    warnings.simplefilter("ignore")  # comment')
    assert BLANKET.search("warnings.filterwarnings('ignore')")
    assert not BLANKET.search('warnings.simplefilter("ignore", ChainTooShortWarning)')
