"""Every private scikit-learn name avsc-sk relies on, each with the reason it has no public equivalent.

This module is the only one that imports a private scikit-learn name (``tests/test_module_boundaries.py``
checks it); the others import them from here, so an upgrade of scikit-learn that moves one breaks
here, in one place. Private *attributes and hooks* that cannot be imported are listed below too.

Imported here
-------------
InvalidParameterError
    The error scikit-learn's parameter validation raises (a ``ValueError`` and ``TypeError``).
    Catching it tells a bad configured value (one line naming the key) from a bug inside
    ``fit``, which stays a traceback; scikit-learn exports no public name for it.
    Used by ``runs/_build.py`` and ``fusion/_base.py``.
Interval, StrOptions
    The constraint objects of ``_parameter_constraints``, which make the heads validate their
    parameters exactly as scikit-learn's own estimators do (same messages, checked by
    ``parametrize_with_checks``); there is no public constraint API. Used by ``heads/``.
BaseComposition (``sklearn.utils.metaestimators._BaseComposition``)
    ``get_params``/``set_params`` over a list of named estimators (``audio__head__C``), as
    ``Pipeline`` and ``StackingClassifier`` implement them; re-implementing it would copy
    its logic. Used by ``fusion/_base.py`` (``ModalityFusion``).

Relied on without an import
---------------------------
``BaseSearchCV._run_search(evaluate_candidates)``
    The hook scikit-learn's own searches override (documented in ``BaseSearchCV``); the tuning
    searches override it to evaluate candidates in chunks (progress, Ctrl-C keeps results).
    ``tuning/_search.py``.
``estimator._validate_params()`` and ``_parameter_constraints``
    Validate a configured value when it is set, not deep inside ``fit``, naming the config
    key. ``runs/_build.py``; the heads call it in ``fit`` as scikit-learn's estimators do
    (``heads/_base.py``).
``ColumnTransformer._transformer_to_input_indices``
    Its per-transformer lists of column indices are stored as arrays before saving, which
    makes run files small and fast to load (``runs/_store.py``, ``_compact``).
"""

from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.metaestimators import _BaseComposition as BaseComposition

__all__ = ["BaseComposition", "Interval", "InvalidParameterError", "StrOptions"]
