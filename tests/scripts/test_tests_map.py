"""tests/README.md maps the notes, mnist.jl and the companion notebook to their tests: every
test it names exists, so the map cannot point at a test that was renamed or removed."""
import re
from pathlib import Path

TESTS = Path(__file__).parents[1]


def named_tests() -> list[tuple[str, str | None]]:
    """(file, test or None) for every reference in the map's last column."""
    found = []
    for row in (TESTS / "README.md").read_text().splitlines():
        if not row.startswith("|"):
            continue
        current = None
        for ref in re.findall(r"`([^`]+)`", row.split("|")[-2]):
            match = re.fullmatch(r"((?:lecture|robustness|scripts)/test_\w+\.py)?(?:::(\w+))?",
                                 ref)
            if match and (match[1] or current):
                current = match[1] or current
                found.append((current, match[2]))
    return found


def test_every_test_the_map_names_exists():
    named = named_tests()
    assert len(named) > 50
    for file, test in named:
        path = TESTS / file
        assert path.is_file(), file
        if test:
            assert re.search(rf"^def {test}\(", path.read_text(), re.M), f"{file}::{test}"
