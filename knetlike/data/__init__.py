"""Datasets for the lecture: MNIST and Fashion-MNIST, fetched, verified, cached, loaded
in Knet's layout (x float32 784 x N column-major in [0, 1], y int64 labels).

    xtrn, ytrn, xtst, ytst = mnist()                  # or fashion_mnist()
    xtrn, ytrn, xtst, ytst = load("fashion", root=DIR)  # any name in DATASETS
    FASHION_MNIST.classes[y], MNIST.nclasses, MNIST.ninputs, MNIST.image_shape
"""
from .datasets import (DATASETS, FASHION_MNIST, MNIST, Dataset, IdxFile, fashion_mnist, load,
                       mnist)
from .errors import CacheWarning, ChecksumError, DataError, DataNotFoundError, IdxFormatError
from .idx import idx_bytes, knet_layout, read_idx, read_pair

__all__ = ["mnist", "fashion_mnist", "load", "Dataset", "IdxFile", "MNIST", "FASHION_MNIST",
           "DATASETS", "DataError", "IdxFormatError", "ChecksumError", "DataNotFoundError",
           "CacheWarning", "read_idx", "read_pair", "knet_layout", "idx_bytes"]
