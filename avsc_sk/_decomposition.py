"""PCA whose size adapts to the clips it is fitted on, for configs that must work on any data."""

from numbers import Integral

from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted, validate_data

from ._sklearn_private import Interval

__all__ = ["CappedPCA"]


class CappedPCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """:class:`~sklearn.decomposition.PCA` keeping at most ``n_components``: fewer when the data hold fewer.

    scikit-learn's PCA refuses ``n_components`` above ``min(n_clips, n_features)`` of the data it
    is fitted on, so a fixed size written for the full training set fails on every
    cross-validation training part smaller than it (a grid's every candidate, on a small set).
    This one keeps ``min(n_components, n_clips, n_features)`` (``n_components_``): the same
    PCA wherever the data allow ``n_components``, the largest one the fold allows elsewhere.

    Parameters
    ----------
    n_components : int, optional
        Components kept at most; ``None``: ``min(n_clips, n_features)``, as PCA's ``None``.
    whiten : bool, default=False
    random_state : int or None, default=None
        Seed of the randomised solvers (see PCA).

    Attributes
    ----------
    n_components_ : int
        Components kept.
    pca_ : PCA
        The fitted PCA.
    n_features_in_ : int
    """

    _parameter_constraints = {"n_components": [Interval(Integral, 1, None, closed="left"), None],
                              "whiten": ["boolean"], "random_state": ["random_state"]}

    def __init__(self, n_components=None, *, whiten=False, random_state=None):
        self.n_components = n_components
        self.whiten = whiten
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit a PCA of ``min(n_components, n_clips, n_features)`` components on ``X``."""
        self._validate_params()
        X = validate_data(self, X)
        cap = min(X.shape)
        self.n_components_ = cap if self.n_components is None else min(int(self.n_components), cap)
        self.pca_ = PCA(self.n_components_, whiten=self.whiten, random_state=self.random_state).fit(X)
        self._n_features_out = self.n_components_
        return self

    def transform(self, X):
        """Project ``X`` on the kept components."""
        check_is_fitted(self)
        return self.pca_.transform(validate_data(self, X, reset=False))

    def inverse_transform(self, X):
        """Back from the components to the input space."""
        check_is_fitted(self)
        return self.pca_.inverse_transform(X)
