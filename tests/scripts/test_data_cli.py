"""`python -m knetlike.data` on an empty cache and on bad arguments (no real data needed)."""
import dataclasses

import pytest

from knetlike.data import cli
from knetlike.data.datasets import command_name, dataset_names, FASHION_MNIST, MNIST


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("KNETLIKE_DATA", raising=False)
    return tmp_path / "xdg" / "knetlike"


def test_info_on_an_empty_cache_states_what_to_run(empty_cache, capsys):
    assert cli.main(["info", "mnist"]) == 0
    out, err = capsys.readouterr()
    assert out == (f"MNIST\n  cache {empty_cache / 'mnist'}: not fetched yet "
                   "(`python -m knetlike.data fetch mnist`)\n")
    assert err == "" and "no such directory" not in out


def test_info_names_the_fetch_command_of_each_dataset(empty_cache, capsys):
    assert cli.main(["info", "fashion-mnist"]) == 0
    out = capsys.readouterr().out
    assert "not fetched yet (`python -m knetlike.data fetch fashion`)" in out
    assert "no such directory" not in out


def test_a_directory_the_user_names_is_still_an_error(empty_cache, tmp_path, capsys):
    assert cli.main(["info", "mnist", "--data", str(tmp_path / "nowhere")]) == 1
    out, err = capsys.readouterr()
    assert f"{tmp_path / 'nowhere'}: no such directory" in out + err


def test_each_dataset_is_listed_once_with_its_alias(capsys):
    assert dataset_names() == "mnist, fashion (or fashion-mnist)"
    assert command_name(MNIST) == "mnist" and command_name(FASHION_MNIST) == "fashion"
    with pytest.raises(SystemExit):
        cli.main(["info", "--help"])
    assert "one of: mnist, fashion (or fashion-mnist)" in capsys.readouterr().out


def test_an_unknown_dataset_is_a_bad_argument(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["verify", "digits"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "unknown dataset digits; choose from mnist, fashion (or fashion-mnist)" in err
    assert "Traceback" not in err


def test_verify_with_nothing_fetched_says_so_instead_of_all_good(empty_cache, monkeypatch,
                                                                 capsys):
    """Nothing checked is not "all checked files are good": the line says nothing is fetched
    and how to fetch it; the exit status stays 0 (no file is bad), as the help says."""
    monkeypatch.setattr(cli, "DATASETS", {name: dataclasses.replace(data, system_dirs=())
                                          for name, data in cli.DATASETS.items()})
    assert cli.main(["verify"]) == 0
    out = capsys.readouterr().out
    assert "all checked files are good" not in out
    assert out.splitlines()[-1] == ("nothing to verify: no file is fetched yet (`python -m "
                                    "knetlike.data fetch mnist`, or fashion)")
    assert cli.main(["verify", "mnist"]) == 1                  # a dataset named must be there
    assert capsys.readouterr().out.splitlines()[-1] == "verification FAILED"
