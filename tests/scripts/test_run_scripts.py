"""Every script that writes is one run (knetlike.run.Run): a directory of its own by
default, never another run's nor the committed files in docs/, which only the commands
named for it regenerate (``--docs``)."""
import re
from pathlib import Path

import pytest

from conftest import load_script

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def boundaries():
    return load_script("boundaries")


def committed_figures():
    return {p.name: p.read_bytes() for p in (ROOT / "docs" / "figures").iterdir() if p.is_file()}


@pytest.mark.slow
def test_boundaries_writes_a_run_directory_by_default_and_never_docs(boundaries, tmp_path,
                                                                     monkeypatch, capsys):
    before = committed_figures()
    monkeypatch.chdir(tmp_path)
    assert boundaries.main(["--epochs", "1", "--hidden", "4"]) == 0
    out = tmp_path / "runs" / "boundaries"
    assert sorted(p.name for p in out.iterdir()) == ["boundaries.png", "boundaries_mlp.png",
                                                     "settings.json", "summary.txt"]
    assert (out / "summary.txt").read_text().startswith("status: finished\n")
    assert committed_figures() == before


@pytest.mark.slow
def test_boundaries_leaves_a_directory_holding_another_run_alone(boundaries, tmp_path, capsys):
    other = tmp_path / "figures"
    other.mkdir()
    (other / "boundaries.png").write_bytes(b"another run's figure")
    assert boundaries.main(["--epochs", "1", "--hidden", "4", "--out", str(other)]) == 0
    assert [p.name for p in other.iterdir()] == ["boundaries.png"]
    assert (other / "boundaries.png").read_bytes() == b"another run's figure"
    assert (tmp_path / "figures-2" / "boundaries.png").exists()
    assert f"{other} already holds a run" in capsys.readouterr().err


@pytest.mark.slow
def test_boundaries_docs_writes_the_committed_copies(boundaries, tmp_path, monkeypatch):
    monkeypatch.setattr(boundaries, "DOCS_FIGURES", tmp_path / "docs")
    (tmp_path / "docs").mkdir()
    assert boundaries.main(["--epochs", "1", "--hidden", "4", "--out", str(tmp_path / "run"),
                            "--docs"]) == 0
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["boundaries.png",
                                                                     "boundaries_mlp.png"]


def test_no_script_writes_into_docs_by_default():
    assert load_script("mnist").build_parser().parse_args([]).out is None      # runs/DATASET
    assert load_script("overfitting").build_parser().parse_args([]).out == "runs/overfitting"
    assert load_script("boundaries").build_parser().parse_args([]).out == "runs/boundaries"


# The README, followed top to bottom, changes no committed file except where it says so

# A command on a line of its own, or quoted inline in `backticks`.
COMMAND = re.compile(r"^\s*(\.venv/bin/python scripts/\S+\.py[^\n#]*)|"
                     r"`(\.venv/bin/python scripts/[^`]+)`", re.M)


def writes_into_docs(command: str) -> bool:
    """Whether a README command would write into docs/ (the committed files)."""
    if "scripts/notebook.py" in command:
        return "--check" not in command
    return "--docs" in command or bool(re.search(r"--out\s+docs/", command))


def test_the_readmes_commands_write_into_docs_only_where_it_says_they_regenerate():
    text = (ROOT / "README.md").read_text()
    paragraphs = re.split(r"\n\s*\n", text)
    for k, paragraph in enumerate(paragraphs):
        for command in map("".join, COMMAND.findall(paragraph)):
            if writes_into_docs(command):
                around = " ".join(paragraphs[max(0, k - 1):k + 2]).lower()
                assert "regenerat" in around, f"README: {command!r} writes into docs/ unsaid"
            if "--out docs/" in command and "compare.py" not in command:
                raise AssertionError(f"README: {command!r}: use --docs, not --out docs/...")
