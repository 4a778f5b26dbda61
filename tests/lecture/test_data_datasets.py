"""The facts about each dataset, kept on its `Dataset`: classes, image shape, C and D."""
import hashlib

import numpy as np
import pytest

import knetlike.data as data
from knetlike.data import DATASETS, FASHION_MNIST, MNIST, Dataset, IdxFile


def test_mnist_facts():
    assert MNIST.classes == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
    assert MNIST.image_shape == (28, 28)
    assert MNIST.nclasses == 10 and MNIST.ninputs == 784


def test_fashion_mnist_facts():
    assert FASHION_MNIST.classes == ("T-shirt", "Trouser", "Pullover", "Dress", "Coat",
                                     "Sandal", "Shirt", "Sneaker", "Bag", "Boot")
    assert FASHION_MNIST.image_shape == (28, 28)
    assert FASHION_MNIST.nclasses == 10 and FASHION_MNIST.ninputs == 784


def test_registry():
    assert DATASETS["mnist"] is MNIST
    assert DATASETS["fashion"] is DATASETS["fashion-mnist"] is FASHION_MNIST


def test_facts_follow_the_files():
    """image_shape and ninputs come from the files' shapes, nclasses from the classes."""
    files = (IdxFile("a", (5, 2, 3), ""), IdxFile("b", (5,), ""),
             IdxFile("c", (2, 2, 3), ""), IdxFile("d", (2,), ""))
    small = Dataset("small", "Small", files, classes=("x", "y", "z"), remote=())
    assert small.image_shape == (2, 3) and small.ninputs == 6 and small.nclasses == 3


def test_load_is_a_method_and_a_function(tmp_path, monkeypatch):
    """`DATASETS[name].load(root=...)` and `knetlike.data.load(dataset, ...)` both load."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("KNETLIKE_DATA", raising=False)
    rng = np.random.default_rng(0)
    contents = {name: data.idx_bytes(rng.integers(0, 3, shape, dtype=np.uint8))
                for name, shape in [("tr-x", (5, 2, 3)), ("tr-y", (5,)),
                                    ("te-x", (2, 2, 3)), ("te-y", (2,))]}
    for name, content in contents.items():
        (tmp_path / name).write_bytes(content)
    files = tuple(IdxFile(name, shape, hashlib.sha256(contents[name]).hexdigest())
                  for name, shape in zip(contents, [(5, 2, 3), (5,), (2, 2, 3), (2,)]))
    small = Dataset("small", "Small", files, classes=("x", "y", "z"), remote=())
    for xtrn, ytrn, xtst, ytst in (small.load(root=tmp_path, download=False),
                                   data.load(small, root=tmp_path, download=False)):
        assert xtrn.shape == (6, 5) and xtst.shape == (6, 2) and ytrn.shape == (5,)


def test_load_by_name(monkeypatch):
    """`load("fashion", ...)` is `FASHION_MNIST.load(...)`; an unknown name is refused."""
    calls = []
    monkeypatch.setattr(Dataset, "load", lambda self, root, download: calls.append(
        (self.name, root, download)))
    data.load("fashion", root="somewhere", download=False)
    data.load("mnist")
    assert calls == [("fashion-mnist", "somewhere", False), ("mnist", None, True)]
    with pytest.raises(ValueError, match=r"unknown dataset 'digits'; choose one of mnist, "
                                         r"fashion \(or fashion-mnist\)$"):
        data.load("digits")
