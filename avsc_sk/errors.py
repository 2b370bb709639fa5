"""The exception family of avsc-sk.

Every error a user can cause is an :class:`AvscError`. The CLI prints it as one
line, ``avsc-sk: error: <message>``, and exits with status 2; messages name the
offending value or file, what was expected, and how to fix it.
"""

__all__ = [
    "AvscError",
    "DataError",
    "ConfigError",
    "OutputExistsError",
    "RunError",
    "MissingDependencyError",
    "SchedulerError",
    "AvscWarning",
    "SplitWarning",
    "CVFallbackWarning",
]


class AvscError(Exception):
    """Root of every error avsc-sk raises on purpose."""


class DataError(AvscError, ValueError):
    """Input data (features, metadata, predictions) is missing, malformed or inconsistent."""


class ConfigError(AvscError, ValueError):
    """A configuration file or command-line override is invalid."""


class OutputExistsError(AvscError, FileExistsError):
    """An output path exists and ``--force`` was not given."""


class RunError(AvscError):
    """A run directory is incomplete, from another version, or fails its integrity checks."""


class MissingDependencyError(AvscError, ImportError):
    """An optional dependency needed by the requested feature is not installed."""


class SchedulerError(AvscError, ConnectionError):
    """No Dask scheduler answers at the address given (``--scheduler``)."""


class AvscWarning(UserWarning):
    """Root of every warning avsc-sk gives on purpose; the CLI prints it as ``avsc-sk: warning: <message>``."""


class SplitWarning(AvscWarning):
    """Cross-validation folds differ from what was asked: fewer folds, or no location groups."""


class CVFallbackWarning(SplitWarning):
    """An internal cross-validation could not group its folds by location and used stratified ones.

    Given by a choice made inside a fit the user did not ask to cross-validate (a head's
    regularisation, late and weighted fusion's out-of-fold probabilities, the MLP's
    early-stopping hold-out): what was chosen on those folds is optimistic. Fitted estimators
    record the reason in ``cv_fallback_``; ``avsc-sk fit`` in the manifest's ``cv_fallbacks``.
    """
