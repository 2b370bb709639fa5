"""One BLAS thread for a block of many small fits, without rescanning the loaded libraries each time."""

_controller = None


def one_blas_thread():
    """A context manager limiting every thread pool known when first called to one thread.

    ``threadpool_limits(1)`` scans the process's loaded libraries on every entry (about 4 ms):
    a logistic-regression C path enters it once per fold and C, which made that scan a third
    of a small fit. The controller is made once, after numpy and scikit-learn are loaded.
    """
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1)
