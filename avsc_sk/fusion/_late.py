"""Late fusion: stack the per-modality estimators' probabilities with location-grouped internal CV."""

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import StackingClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.validation import check_is_fitted

from ..errors import ConfigError
from ..heads import LogisticRegressionHead, fit_with_groups
from ._base import (ModalityFusion, fit_members, fold_proba, grouped_splits, missing_mask, stack_features,
                    with_cv_groups)

__all__ = ["LateFusionClassifier"]


def _selector(name, block):
    return ColumnTransformer([(name, "passthrough", block)])


def _member(name, estimator, block):
    """A stack member: ``estimator`` behind a selector of its modality's pooled columns."""
    return Pipeline([("select", _selector(name, block)), ("model", estimator)])


class _GroupedStacker(ClassifierMixin, BaseEstimator):
    """The stacker, always fitted with the clips' locations.

    StackingClassifier hands its final estimator the fit's metadata only when a member consumes
    it (else it refuses ``groups`` outright); a stacker that chooses its own C must get them
    either way. The out-of-fold probabilities keep the clips' order, so ``groups`` line up.

    ``oof``: with members that came fitted (``cv="prefit"``, :meth:`LateFusionClassifier.from_members`)
    the stack's own predictions on its training clips are in-sample; the stacker is fitted on these
    out-of-fold probabilities (stacked as StackingClassifier stacks them) instead.
    """

    def __init__(self, estimator=None, groups=None, oof=None):
        self.estimator = estimator
        self.groups = groups
        self.oof = oof

    def fit(self, X, y, groups=None):
        groups = self.groups if groups is None else groups
        if self.oof is not None:
            if np.shape(self.oof) != np.shape(X):
                raise ValueError(f"the out-of-fold probabilities have shape {np.shape(self.oof)}, "
                                 f"the stacked predictions {np.shape(X)}")
            X = self.oof
        self.estimator_ = fit_with_groups(clone(self.estimator), X, y, groups)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)


class LateFusionClassifier(ModalityFusion):
    """Late fusion: a final classifier stacked on each modality estimator's probabilities.

    What :class:`sklearn.ensemble.StackingClassifier` does (out-of-fold ``predict_proba`` of
    every modality estimator, concatenated, a final estimator on top), with three changes that
    matter for TAU:

    * the internal cross-validation is grouped by recording location (``fit``'s ``groups``)
      and checked by :func:`avsc_sk.model_selection.check_cv_splits`: no location is on both
      sides of a fold and every training part holds every class (fewer folds with a warning,
      or a DataError), materialised in ``cv_splits_`` and passed as the stack's ``cv``. An
      ungrouped ``StratifiedKFold`` leaks: clips from one location are near duplicates, so
      out-of-fold probabilities come out over-confident and the final estimator learns to
      trust them too much; a fold that never saw a class teaches it to distrust a modality;
    * the frames are pooled once, by ``pooler``, before the stack sees them (pooling learns
      nothing, so this is exact), and every modality estimator sees only its own pooled
      columns: a fold copies a few MB instead of the frame matrix;
    * each modality estimator's hyper-parameters (a head's ``C``, ``gamma``, ``k``, rounds or
      ``alpha``) are chosen once, by its head's grouped inner CV on all of the training clips
      (which is also its final fit), and the out-of-fold fits reuse them fixed
      (``member_tuning="once"``; see :func:`~avsc_sk.fusion.fit_members` for why this is
      sound). ``member_tuning="nested"`` chooses them again inside every internal fold, on its
      training locations only, as StackingClassifier would: exact, and several times dearer
      (every fold runs the head's whole inner CV).

    Parameters
    ----------
    estimators : list of (str, estimator), optional
        One ``(modality_name, estimator)`` per modality. With ``pooler`` an estimator named
        like one of the pooler's transformers gets that modality's pooled columns (e.g.
        :func:`make_modality_pipeline`); otherwise it gets every column and must select its
        own (e.g. ``make_feature_pipeline(modalities, "audio")``). ``None`` stacks a single
        scaled logistic regression over all columns. Their parameters are this estimator's
        ``<name>__<param>``, e.g. ``audio__head__C``.
    final_estimator : classifier, optional
        Trained on the concatenated out-of-fold probabilities; default a logistic regression.
    cv : int or splitter, default=5
        Internal folds asked for (see :func:`grouped_splits`).
    random_state : int or None, default=None
        Seed of the shuffled internal folds (``None``: unshuffled) and of the default estimators.
    pooler : transformer, optional
        Pools the frames of every modality, fitted once on the training clips: a
        ColumnTransformer with one ``(modality_name, FramePooler, raw_columns)`` per modality
        (:func:`make_pooler`), tunable as ``pooler__audio__stats``. ``None``: no pooling.
    n_jobs : int, optional
        Parallel jobs over the internal folds of each modality (joblib; ``None`` is 1).
    cv_groups : {"auto", "location", "none"}, default="auto"
        ``"auto"``: internal folds grouped by ``groups`` where every class can stay in every
        training part, else stratified folds that share locations (optimistic out-of-fold
        probabilities) with one :class:`~avsc_sk.errors.CVFallbackWarning`, the reason kept in
        ``cv_fallback_`` (the heads inside then share locations too, quietly); ``"location"``:
        grouped or a DataError; ``"none"``: stratified folds. ``"location"`` and ``"none"`` are
        passed on to every head inside (members and stacker) that takes ``cv_groups``.
    member_tuning : {"once", "nested"}, default="once"
        Where the modality estimators' heads choose their hyper-parameters: ``"once"``, on all
        training clips, then fixed in the out-of-fold fits; ``"nested"``, again inside every
        internal fold.

    Attributes
    ----------
    pooler_ : transformer or None
        The fitted pooler.
    estimators_ : list of estimator
        The modality estimators fitted on all of the training clips (on their pooled blocks).
    blocks_ : list of slice
        The pooled columns each estimator reads.
    final_estimator_ : classifier
        Fitted on the out-of-fold probabilities (classes encoded as ``0..n_classes-1``).
    cv_splits_ : list of (ndarray, ndarray)
        The internal folds used.
    fill_ : list of ndarray
        Stacked-feature stand-in for a missing modality (see Notes).
    class_prior_ : ndarray of shape (n_classes,)
        Each class's share of the training labels: the answer for a clip with no modality.
    cv_fallback_ : str or None
        Why the internal folds fell back to stratified ones (``cv_groups="auto"``), or ``None``.
    modality_names_ : list of str
    classes_ : ndarray
    n_features_in_ : int

    Notes
    -----
    Missing modality at prediction: a clip whose block of some modality is entirely NaN (so
    is its pooled block) is stacked on the modalities it has. The missing estimator's stacked
    features are replaced by ``fill_``, the class frequencies of the training labels (what a
    calibrated model says without evidence, and about the mean of its out-of-fold
    probabilities), so the final estimator decides from the present modalities. A clip with no
    modality at all gets ``class_prior_`` (with a :class:`~avsc_sk.fusion.NoModalityWarning`).
    During ``fit`` each member learns from the clips that have its modality (see
    :class:`~avsc_sk.fusion.FeaturePipeline`); its out-of-fold probabilities for the others are
    its fold's class prior. The stacker learns from the clips that have every modality (all
    clips when those lack a class), and meets the class shares in place of an absent member
    only at prediction.
    """

    _what = "late fusion"

    def __init__(self, estimators=None, final_estimator=None, cv=5, random_state=None, pooler=None, n_jobs=None,
                 cv_groups="auto", member_tuning="once"):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.random_state = random_state
        self.pooler = pooler
        self.n_jobs = n_jobs
        self.cv_groups = cv_groups
        self.member_tuning = member_tuning

    def _final(self, cv_groups="auto"):
        if self.final_estimator is None:
            # The stacker chooses its own C on location-grouped folds, like every head.
            return LogisticRegressionHead(random_state=self.random_state, cv_groups=cv_groups)
        return clone(with_cv_groups(self.final_estimator, cv_groups))

    def fit(self, X, y, groups=None):
        """Fit every modality estimator on all of ``X`` and the final estimator on grouped out-of-fold probabilities.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            A FeatureSet's ``X``.
        y : array-like of shape (n_clips,)
        groups : array-like of shape (n_clips,), optional
            Recording location of each clip (``FeatureSet.groups``); strongly recommended.

        Returns
        -------
        self
        """
        X, y = self._validate(X, y)
        check_classification_targets(y)
        if len(np.unique(y)) < 2:
            raise ValueError("late fusion needs clips of at least 2 classes; the data contains only one class")
        estimators, Z, y, groups = self._pool_fit(X, y, groups)
        self.cv_splits_, self.cv_fallback_ = grouped_splits(Z, y, groups, self.cv, self.random_state, self.cv_groups,
                                                            "late fusion's internal cross-validation",
                                                            return_fallback=True)
        estimators = self._inner(estimators, groups, warned=True)
        if self.member_tuning == "once":
            # Members chosen and fitted on all clips, then out-of-fold fits at their chosen values:
            # what from_members assembles, so fit and from_members share one path.
            self.estimators_, oof, _ = fit_members(estimators, Z, self.blocks_, y, groups, self.cv_splits_,
                                                   self.classes_, member_tuning="once", n_jobs=self.n_jobs,
                                                   desc=self._what)
            return self._assemble(Z, y, oof, groups)
        final = self._final(self._inner_cv_groups(groups, warned=True))
        # The stacking itself is scikit-learn's, on the small pooled matrix: each member is its
        # modality estimator behind a selector of that modality's pooled columns.
        self.stack_ = self._stack([(name, _member(name, clone(est), block))
                                   for (name, est), block in zip(estimators, self.blocks_)], final, groups,
                                  self.cv_splits_)
        # Metadata routing hands each member's head the locations of its fold's training clips
        # (and the stacker all of them), so hyper-parameters are chosen nested, on grouped folds.
        fit_params = {} if groups is None else {"groups": np.asarray(groups)}
        try:
            with sklearn.config_context(enable_metadata_routing=bool(fit_params)):
                if fit_params and not get_routing_for_object(self.stack_).consumes("fit", ["groups"]):
                    fit_params = {}  # no member takes locations; the stacker has its own
                self.stack_.fit(Z, y, **fit_params)
        except ValueError:
            self._diagnose(estimators, Z, y, groups)  # names the modality and fold when too few clips are the cause
            raise
        return self._fitted(final, y, Z.shape[1])

    @classmethod
    def from_members(cls, members, oof_proba, X, y, *, groups=None, cv_splits=None, **params):
        """A fitted late fusion from already-fitted modality estimators and their out-of-fold probabilities.

        What ``fit`` does, without training the modality estimators again: to share them with
        other models (``avsc-sk compare`` trains them once for the single-modality, late and
        weighted modes). Given the members and out-of-fold probabilities ``fit`` would make,
        the result equals ``fit``'s: the same ``stack_`` (a fitted StackingClassifier), stacker
        and predictions. The members go into the stack as ``cv="prefit"`` members; the stacker
        is fitted on ``oof_proba``, as StackingClassifier fits it on its own out-of-fold
        predictions.

        Parameters
        ----------
        members : list of (str, estimator)
            One fitted ``(modality_name, estimator)`` per modality, each fitted on all of ``X``:
            on its modality's pooled columns (``pooler.fit_transform(X)[:, block]``, the block
            being the pooler's ``output_indices_[name]``), or on all of ``X`` without a pooler.
        oof_proba : list of ndarray of shape (n_clips, n_classes)
            Each member's out-of-fold ``predict_proba`` over ``cv_splits`` (a clone fitted on a
            fold's training clips, predicting its test clips), columns in ``np.unique(y)`` order.
            As ``fit`` makes them with ``member_tuning="once"``: clones with the member's chosen
            hyper-parameters fixed (:func:`~avsc_sk.fusion.fixed_member`); with ``"nested"``,
            clones of the unfitted estimators. :func:`~avsc_sk.fusion.fit_members` makes both.
        X : array-like of shape (n_clips, n_features)
            The training clips (a FeatureSet's ``X``), pooled again here (pooling learns nothing).
        y : array-like of shape (n_clips,)
        groups : array-like of shape (n_clips,), optional
            Recording location of each clip: the default stacker chooses its C on them.
        cv_splits : list of (ndarray, ndarray), optional
            The folds ``oof_proba`` comes from, kept as ``cv_splits_``; ``None``: the folds
            ``fit`` would use (:func:`grouped_splits` with ``cv`` and ``random_state``).
        **params
            Constructor parameters (``pooler``, ``final_estimator``, ``cv``, ...). ``estimators``
            defaults to unfitted clones of ``members``.

        Returns
        -------
        LateFusionClassifier
            Fitted.
        """
        if oof_proba is None:
            raise ConfigError("late fusion's stacker learns from the members' out-of-fold probabilities; "
                              "pass oof_proba")
        self = cls(**{"estimators": [(name, clone(est)) for name, est in members], **params})
        Z, y, oof = self._adopt(members, oof_proba, X, y)
        self.cv_fallback_ = None
        if cv_splits is None:
            self.cv_splits_, self.cv_fallback_ = grouped_splits(
                Z, y, groups, self.cv, self.random_state, self.cv_groups, "late fusion's internal cross-validation",
                return_fallback=True)
        else:
            self.cv_splits_ = [(np.asarray(train), np.asarray(test)) for train, test in cv_splits]
        return self._assemble(Z, y, oof, groups)

    def _assemble(self, Z, y, oof, groups):
        """Stack the fitted ``estimators_`` as ``cv="prefit"`` members, the stacker fitted on ``oof``."""
        final = self._final(self._inner_cv_groups(groups, warned=True))
        # The selectors learn nothing but the width of Z; the members keep their fitted state.
        fitted = [(name, Pipeline([("select", _selector(name, block).fit(Z)), ("model", est)]))
                  for name, est, block in zip(self.modality_names_, self.estimators_, self.blocks_)]
        self._set_missing_columns(Z.shape[1])
        rows = self._stacker_rows(Z, y)
        groups = None if groups is None else np.asarray(groups)[rows]
        self.stack_ = self._stack(fitted, final, groups, "prefit",
                                  stack_features([p[rows] for p in oof], len(self.classes_)))
        self.stack_.fit(Z[rows], np.asarray(y)[rows])
        # Its parameters then read as fit's: unfitted members, and the folds the stacker's input came from.
        self.stack_.set_params(estimators=[(name, _member(name, clone(est), block)) for name, est, block
                                           in zip(self.modality_names_, self.estimators_, self.blocks_)],
                               cv=self.cv_splits_)
        return self._fitted(final, y, Z.shape[1])

    def _stacker_rows(self, Z, y):
        """The clips the stacker learns from: those with every modality, when they hold every class.

        Members learn from every clip with their modality; the stacker learns how far to trust
        each, which clips lacking one would teach wrongly (half of them standing in the class
        shares for a member taught it to trust that member less on complete clips: 0.036 worse
        test log loss on digits in ``benchmarks/real.py --partial``).
        """
        complete = ~missing_mask(Z, self.columns_).any(axis=1)
        if complete.all() or not set(np.unique(np.asarray(y)[complete])) >= set(self.classes_):
            return np.arange(len(y))
        return np.flatnonzero(complete)

    def _stack(self, members, final, groups, cv, oof=None):
        """The StackingClassifier over ``members``, its stacker given the locations (and ``oof``)."""
        return StackingClassifier(members, final_estimator=_GroupedStacker(final, groups, oof), cv=cv,
                                  stack_method="predict_proba", n_jobs=self.n_jobs)

    def _fitted(self, final, y, n_pooled):
        # Unwrapped, stack_ is a plain StackingClassifier again (and its pickle holds no locations).
        self.stack_.final_estimator, self.stack_.final_estimator_ = final, self.stack_.final_estimator_.estimator_
        self.estimators_ = [member.named_steps["model"] for member in self.stack_.estimators_]
        self.final_estimator_ = self.stack_.final_estimator_
        self._set_missing_columns(n_pooled)
        self._set_fill(y)
        return self

    def _diagnose(self, estimators, Z, y, groups=None):
        """Refit member by member, fold by fold, to turn a too-few-clips failure into a precise DataError."""
        # With the fold's locations, as the stack fitted them: without, every head would choose its
        # hyper-parameters ungrouped (one warning per fit) and the refits would not be the failing ones.
        groups = None if groups is None else np.asarray(groups)
        k = len(self.cv_splits_)
        for i, (train, test) in enumerate(self.cv_splits_):
            for (name, est), block in zip(estimators, self.blocks_):
                fold_proba(name, est, Z[:, block], y, train, test, self.classes_, f"internal fold {i + 1} of {k}", k,
                           groups)

    def _set_fill(self, y):
        self.fill_ = [self.class_prior_ for _ in self.estimators_]

    def _predict_pooled(self, Z):
        def stacked(Zp):
            probas, _ = self._member_probas(Zp, self.fill_)
            return self.final_estimator_.predict_proba(stack_features(probas, len(self.classes_)))

        return self._or_prior(Z, stacked)

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self)
        return self._predict_pooled(self._pooled(X))
