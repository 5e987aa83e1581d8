"""threads_for: small work runs on one thread, and the caller's thread count comes back."""
import numba
import pytest

from numprec.kernels.jit import SMALL_WORK, threads_for


@pytest.fixture
def two_threads():
    previous = numba.get_num_threads()
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")  # (CI's machines have two cores)
    numba.set_num_threads(2)
    yield
    numba.set_num_threads(previous)


def test_small_work_runs_on_one_thread_and_restores_the_count(two_threads):
    with threads_for(SMALL_WORK - 1):
        assert numba.get_num_threads() == 1
        with threads_for(10):  # nested: stays one
            assert numba.get_num_threads() == 1
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == 2


def test_large_work_keeps_every_thread(two_threads):
    with threads_for(SMALL_WORK):
        assert numba.get_num_threads() == 2
    assert numba.get_num_threads() == 2


def test_the_count_comes_back_after_an_error(two_threads):
    with pytest.raises(ZeroDivisionError):
        with threads_for(1):
            1 / 0
    assert numba.get_num_threads() == 2
