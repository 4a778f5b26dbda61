"""Datasets for the lecture: MNIST and Fashion-MNIST, fetched, verified, cached, loaded
in Knet's layout (x float32 784 x N column-major in [0, 1], y int64 labels)."""
from .datasets import DATASETS, FASHION_MNIST, MNIST, Dataset, IdxFile, fashion_mnist, mnist
from .errors import CacheWarning, ChecksumError, DataError, DataNotFoundError, IdxFormatError
from .idx import knet_layout, read_idx, read_pair

__all__ = ["mnist", "fashion_mnist", "Dataset", "IdxFile", "MNIST", "FASHION_MNIST",
           "DATASETS", "DataError", "IdxFormatError", "ChecksumError", "DataNotFoundError",
           "CacheWarning", "read_idx", "read_pair", "knet_layout"]
