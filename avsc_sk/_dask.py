"""The Dask client ``tune --backend dask`` and ``extract --backend dask`` run on."""

from .errors import MissingDependencyError, SchedulerError

#: How to install what ``--backend dask`` needs.
DASK_HINT = "pip install 'avsc-sk[dask]'"

#: How long to wait for a scheduler at ``--scheduler ADDRESS`` to answer before saying it cannot be reached.
CONNECT_TIMEOUT = "10s"


def import_distributed():
    """``dask.distributed``, or a MissingDependencyError naming how to install it.

    Call it before reading any data, so a missing package is said first.
    """
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError(f"--backend dask needs dask.distributed, which is not installed; "
                                     f"{DASK_HINT}") from None
    return distributed


def dask_client(scheduler=None, *, n_workers=None):
    """A ``(client, cluster)`` pair: ``scheduler`` is an address, or ``"local"``/``None`` for a LocalCluster.

    Parameters
    ----------
    scheduler : str, optional
        A scheduler address (``tcp://host:8786``); ``None``, ``""`` or ``"local"`` start a
        LocalCluster here (one single-threaded worker process per core, or ``n_workers``).
    n_workers : int, optional
        Workers of the LocalCluster; ignored for an existing scheduler.

    Returns
    -------
    client : distributed.Client
    cluster : distributed.LocalCluster or None
        ``None`` for an existing scheduler. The caller closes both.

    Raises
    ------
    MissingDependencyError
        If dask.distributed is not installed.
    SchedulerError
        If no scheduler answers at ``scheduler`` within 10 s.
    """
    distributed = import_distributed()
    if scheduler in (None, "", "local"):
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
        return distributed.Client(cluster), cluster
    try:
        return distributed.Client(scheduler, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError) as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise SchedulerError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({reason}); check the "
                             "address (tcp://HOST:8786) and that the scheduler is running, or use --scheduler local"
                             ) from None
