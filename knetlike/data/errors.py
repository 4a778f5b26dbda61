"""The errors the data layer raises: each message names the file, the fault and the fix."""


class DataError(RuntimeError):
    """A dataset could not be read, checked, fetched or cached."""


class IdxFormatError(DataError, ValueError):
    """A file is not a well-formed IDX file (bad magic, wrong size, corrupt gzip, ...)."""


class ChecksumError(DataError):
    """A well-formed file whose content is not the expected one (wrong dataset or version)."""


class DataNotFoundError(DataError):
    """No source could provide a dataset (the message lists every source tried), or the
    directory the user named lacks its files (the message says what is missing there)."""


class CacheWarning(UserWarning):
    """A cached file could not be read or failed its check; it was removed, to be fetched
    again (at once, unless download=False)."""
