"""The BLAS thread tuner's choices, on a simulated clock and load: when it tries two threads,
when it settles on them, when it backs off."""

from __future__ import annotations

from pipeline.nn import blas, minibatch
from plugins.activations import ACTIVATIONS
from tests.pipeline.nn import shapes


class Machine:
    """A fake clock: each batch takes ``seconds[threads]``; other processes use ``others`` CPUs
    (None: no load figure, as off Linux)."""

    def __init__(self, seconds, others=0.0):
        self.now, self.seconds, self.others_rate = 0.0, seconds, others

    def clock(self):
        return self.now

    def others(self):
        return None if self.others_rate is None else self.others_rate * self.now


def _simulate(seconds, others=0.0, epochs=20, rows=(128,) * 437 + (64,)):
    full, last = minibatch.Batch(shapes.params(), 128, ACTIVATIONS["relu"], 0.0), \
        minibatch.Batch(shapes.params(), 64, ACTIVATIONS["relu"], 0.0)
    machine = Machine(seconds, others)
    tuner = blas.Tuner(full, clock=machine.clock, others=machine.others, cpus=2)
    threads_seen = []
    for _ in range(epochs):
        tuner.begin()
        for n in rows:
            batch = full if n == 128 else last
            tuner.tick(batch)
            threads = 2 if batch.parallel else 1
            threads_seen.append((n, threads))
            machine.now += seconds[threads] * n / 128
        tuner.end()
        assert not full.parallel                              # back on one thread between epochs
        machine.now += 0.01
    return tuner, threads_seen


def test_tuner_settles_on_two_threads_when_they_are_faster():
    tuner, seen = _simulate({1: 400e-6, 2: 300e-6})
    assert tuner.best == 2 and tuner.parallel_share > 0.9
    assert all(threads == 1 for n, threads in seen if n == 64)   # the short batch: always one thread


def test_tuner_stays_on_one_thread_when_two_are_slower_and_backs_off():
    tuner, seen = _simulate({1: 400e-6, 2: 4000e-6})
    assert tuner.best == 1 and tuner.window >= 16 * blas.Tuner.WINDOW
    trials = sum(1 for i in range(1, len(seen)) if seen[i][1] == 2 and seen[i - 1][1] == 1)
    two = sum(1 for _, threads in seen if threads == 2)
    assert trials <= 7 and two <= trials * (blas.Tuner.WARMUP + 2)   # each trial abandoned after 2 timed batches


def test_tuner_does_not_try_two_threads_on_a_busy_machine():
    tuner, seen = _simulate({1: 400e-6, 2: 300e-6}, others=1.0)     # one of the two CPUs taken
    assert all(threads == 1 for _, threads in seen) and tuner.parallel_share == 0.0


def test_tuner_without_load_figures_still_tries():
    tuner, _ = _simulate({1: 400e-6, 2: 300e-6}, others=None, epochs=5)
    assert tuner.best == 2


def test_tuner_leaves_two_threads_soon_after_they_turn_slow():
    """A VM's host takes the second core in the middle of a long two-thread window."""
    batch = minibatch.Batch(shapes.params(), 128, ACTIVATIONS["relu"], 0.0)
    machine = Machine({1: 400e-6, 2: 300e-6})
    tuner = blas.Tuner(batch, clock=machine.clock, others=lambda: None, cpus=2)
    threads = []
    tuner.begin()
    for i in range(40000):
        if i == 20000:
            machine.seconds[2] = 800e-6                   # two threads now twice as slow as one
        tuner.tick(batch)
        threads.append(2 if batch.parallel else 1)
        machine.now += machine.seconds[threads[-1]]
    tuner.end()
    assert threads[19999] == 2 and tuner.best == 1
    assert threads.index(1, 20000) - 20000 <= 2 * blas.Tuner.TRIAL     # left within two blocks of batches
    assert threads[20000:].count(2) < 200                 # then tried again rarely (windows doubling)


def test_load_figure_is_a_number_on_linux_and_none_without_proc_stat(monkeypatch):
    import builtins
    import sys

    if sys.platform.startswith("linux"):
        assert isinstance(blas.others_cpu_seconds(), float)
    real_open = builtins.open

    def no_proc(path, *args, **kwargs):
        if str(path) == "/proc/stat":
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_proc)
    assert blas.others_cpu_seconds() is None
