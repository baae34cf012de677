"""BLAS threads for the training loop: one or two, whichever is faster now, and the same bits either way.

On a 2-core machine a mini-batch's two large products (784 x 128 x 64 multiply-adds each, for
MNIST) run about 1.8x faster on two OpenBLAS threads when the machine is idle. When another process
is busy, or a VM's host takes the second core, two threads can be many times slower, because
OpenBLAS's threads spin while they wait for each other. So :class:`Tuner` times windows of
batches on each thread count and trains on whichever was faster when last measured.

That is allowed only because no bit depends on it: the first layer's two products are summed in
fixed blocks (:func:`pipeline.nn.blocks.dot`), which BLAS computes alike on one thread or two;
:func:`tuner` checks that on the batch's two product shapes (:func:`pipeline.nn.blocks.invariant`)
and returns None (one thread throughout) where it does not hold. Only those two products (and
the same forward product of validation chunks, :meth:`Tuner.follow`) ever run on two threads:
activations, optimizers (plugins too) and the rest stay on one, so their results cannot depend
on the choice either.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from pipeline.nn import blocks, network
from pipeline.nn.minibatch import Batch

#: BLAS threads of the parallel mode. Two: the machines this was measured on.
PARALLEL = 2

#: Batches whose largest product has fewer multiply-adds stay on one thread: too small to gain.
MIN_PARALLEL_PRODUCT = 1 << 22


def usable_cpus() -> int:
    """CPUs this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)     # Linux only
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def thread_switch(libraries: list, threads: int = PARALLEL) -> Callable[[bool], None]:
    """``switch(many)``: set every BLAS library in ``libraries`` (threadpoolctl controllers) to ``threads`` or 1."""
    def switch(many: bool) -> None:
        blocks.set_threads(libraries, threads if many else 1)
    return switch


def first_layer_shapes(batch: Batch) -> list[tuple[int, int, int]]:
    """(m, k, n) of the batch's forward product and first-layer weight gradient."""
    d, h = batch.params[0].shape
    return [(batch.rows, d, h), (d, batch.rows, h)]


def share(batch: Batch, threads: int) -> bool:
    """Let the batch run its first layer's products on ``threads`` BLAS threads, if that changes no bit.

    Sets ``batch.threads`` (and leaves ``batch.parallel`` to the caller) where every product
    shape passes :func:`pipeline.nn.blocks.invariant`; False (batch unchanged) otherwise.
    """
    libraries = blocks.blas_libraries()
    if threads < 2 or not libraries or not all(blocks.invariant(*s, threads) for s in first_layer_shapes(batch)):
        return False
    batch.threads = thread_switch(libraries, threads)
    return True


def tuner(batch: Batch, threads: int | None, allowed: int = PARALLEL) -> Tuner | None:
    """A :class:`Tuner` for ``batch``, or None where one thread (or ``threads``) must stay.

    Parameters
    ----------
    batch : Batch
        The epoch's full-size batch.
    threads : int or None
        The loop's fixed BLAS thread count (:func:`stages.train.blas_threads`); only a loop
        fixed at one thread is tuned.
    allowed : int
        BLAS threads before training began: a user's limit (``OPENBLAS_NUM_THREADS=1``, an
        enclosing ``threadpool_limits``) below two is respected.
    """
    largest = max(batch.rows * w.shape[0] * w.shape[1] for w in network.weights(batch.params))
    cpus = usable_cpus()
    if threads != 1 or allowed < PARALLEL or largest < MIN_PARALLEL_PRODUCT or cpus < PARALLEL:
        return None
    if not share(batch, PARALLEL):
        return None
    return Tuner(batch, cpus=cpus)


def others_cpu_seconds() -> float | None:
    """CPU-seconds other processes have used since boot, or None where unknown (not Linux).

    The machine's busy time in ``/proc/stat`` (everything but idle and iowait, so including
    time a hypervisor stole) minus this process's CPU time. This process's own spinning
    OpenBLAS threads are not counted, so they cannot make the machine look busy.
    """
    try:
        with open("/proc/stat", "rb") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
        busy = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return None
    return busy - time.process_time()


class Tuner:
    """Runs batches on one or two BLAS threads, whichever was faster when last timed.

    The faster mode (one thread, at first) runs for a window of :attr:`WINDOW` seconds, then the
    other for a trial of at most :attr:`TRIAL` batches and about :attr:`TRIAL_SHARE` of the
    window's time; a trial of two threads is timed after :attr:`WARMUP` batches (the first
    products wake OpenBLAS's sleeping thread). A lost trial doubles the window (up to
    :attr:`MAX_WINDOW`), a won trial switches modes. A trial already :attr:`ABANDON` times
    slower per batch stops at once, and a two-thread window whose last :attr:`TRIAL` batches were
    :attr:`DRIFT` times slower than one thread's last figure ends early (a VM's host may take the
    second core for seconds at a time).

    Two threads are not tried when other processes used more than :attr:`MAX_OTHERS` CPUs over
    the window (judged on windows of :attr:`LOAD_SPAN` seconds or more, as ``/proc/stat``
    counts in 10 ms ticks): on a busy 2-core machine a trial costs more than its batches, since
    OpenBLAS's second thread keeps spinning for about 0.1 s after its last product.

    The first window is only :attr:`FIRST_WINDOW` long, so that a short run soon learns whether
    two threads pay. Time between epochs is not counted, and a batch of another size (an epoch's
    last, shorter batch) runs on one thread. Validation batches of the same shape
    (:meth:`follow`) run on the best known thread count between epochs.

    Parameters
    ----------
    batch : Batch
        The full-size batch, shared by :func:`share`; the tuner sets its ``parallel`` flag.
    clock : callable
        Seconds (tests pass a fake one).
    others : callable
        Cumulative CPU-seconds of other processes, or None where unknown (then two threads are
        always tried).
    cpus : int or None
        CPUs this process may use (default: :func:`usable_cpus`).
    """

    FIRST_WINDOW = 0.05  #: seconds on one thread before the first trial of two (>= LOAD_SPAN)
    WINDOW = 0.1         #: seconds of the faster mode between trials after a won trial
    MAX_WINDOW = 6.4     #: longest window, after lost or skipped trials
    TRIAL = 16           #: most timed batches of a trial
    MIN_TRIAL = 4        #: fewest timed batches of a trial
    TRIAL_SHARE = 0.05   #: a trial's time, as a fraction of the window before it
    WARMUP = 2           #: untimed batches at the start of a trial of two threads
    ABANDON = 2.0        #: a trial this many times slower per batch than the best mode stops early
    DRIFT = 1.1          #: two-thread batches this many times slower than one thread end the window
    MAX_OTHERS = 0.5     #: CPUs other processes may use, on 2 cores, for two threads to be tried
    LOAD_SPAN = 0.05     #: shortest window whose load figure is trusted

    def __init__(self, batch: Batch, clock: Callable[[], float] = time.perf_counter,
                 others: Callable[[], float | None] = others_cpu_seconds, cpus: int | None = None) -> None:
        self.batch, self.clock, self.others = batch, clock, others
        self.free = (cpus or usable_cpus()) - PARALLEL + self.MAX_OTHERS   # others' CPUs still leaving room
        self.best = self.mode = 1               # threads: the best known, and this segment's
        self.seconds: dict[int, float] = {}     # threads -> seconds per batch when last timed
        self.window, self.trial, self.trial_length = self.FIRST_WINDOW, False, self.TRIAL
        self.batches = {1: 0, PARALLEL: 0}      # timed batches per thread count
        self.followers: list[Batch] = []
        self._start_segment()

    def begin(self) -> None:
        """An epoch starts: time from its first batch."""
        self.last = None

    def tick(self, batch: Batch) -> None:
        """``batch`` is about to run: count the previous one, then pick its thread count."""
        self._count_previous()
        if batch is not self.batch:
            self._use(1)
            return
        if self._segment_over():
            self._next_segment()
        self._use(self.mode)
        self.last = self.clock()

    def end(self) -> None:
        """The epoch is over: count its last batch, go back to one thread, set the followers."""
        self._count_previous()
        self._use(1)
        for batch in self.followers:
            batch.parallel = self.best == PARALLEL

    def follow(self, batch: Batch) -> None:
        """After each epoch, run ``batch`` (of the tuned batch's shape, whose products were
        checked with it) on the best known thread count."""
        batch.threads = self.batch.threads
        self.followers.append(batch)

    @property
    def parallel_share(self) -> float:
        """Fraction of the timed batches that ran on two threads."""
        total = sum(self.batches.values())
        return self.batches[PARALLEL] / total if total else 0.0

    def _start_segment(self) -> None:
        self.count, self.elapsed, self.last = 0, 0.0, None
        self.block_start, self.drifted = 0.0, False
        self.warmup = self.WARMUP if self.trial and self.mode == PARALLEL else 0
        self.wall, self.others_at = self.clock(), self.others()

    def _count_previous(self) -> None:
        if self.last is not None:
            self.batches[self.mode] += 1
            if self.warmup:
                self.warmup -= 1
            else:
                self.elapsed += self.clock() - self.last
                self.count += 1
                if self.count % self.TRIAL == 0:
                    self._check_drift()
            self.last = None

    def _check_drift(self) -> None:
        """In a two-thread window: were the last TRIAL batches DRIFT times slower than one thread?"""
        block, self.block_start = self.elapsed - self.block_start, self.elapsed
        serial = self.seconds.get(1)
        if self.mode == PARALLEL and not self.trial and serial is not None:
            self.drifted = block > self.DRIFT * serial * self.TRIAL

    def _segment_over(self) -> bool:
        if not self.trial:
            return (self.count > 0 and self.elapsed >= self.window) or self.drifted
        return self.count >= self.trial_length or (
            self.count >= 2 and self.elapsed > self.ABANDON * self.seconds[self.best] * self.count)

    def _machine_busy(self) -> bool:
        """Whether other processes left too few CPUs for two threads since this segment started."""
        now, span = self.others(), self.clock() - self.wall
        if now is None or self.others_at is None or span < self.LOAD_SPAN:
            return False
        return (now - self.others_at) > self.free * span

    def _next_segment(self) -> None:
        self.seconds[self.mode] = self.elapsed / self.count
        other = self._other()
        if self.trial:
            if self.seconds[self.mode] < self.seconds[self.best]:
                self.best, self.window = self.mode, self.WINDOW
            else:
                self.window = min(2 * self.window, self.MAX_WINDOW)
            self.mode, self.trial = self.best, False
        elif other == PARALLEL and self._machine_busy():
            self.window = min(2 * self.window, self.MAX_WINDOW)      # skip the trial
        else:
            self.mode, self.trial = other, True
            affordable = int(self.TRIAL_SHARE * self.window / self.seconds[self.best])
            self.trial_length = max(self.MIN_TRIAL, min(self.TRIAL, affordable))
        self._start_segment()

    def _other(self) -> int:
        """The thread count that is not the best known."""
        return 1 if self.best == PARALLEL else PARALLEL

    def _use(self, threads: int) -> None:
        self.batch.parallel = threads == PARALLEL
