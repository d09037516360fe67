"""The API benchmark finds the longest stretch in which no request was answered, so a
stall of the whole stack shows in its result rather than only in a high p99."""

from __future__ import annotations

from bench.scenarios.api_latency import Sample, longest_silence, percentile


def _answered_at(*moments: float) -> list[Sample]:
    return [Sample("GET jobs", 200, 5.0, moment) for moment in moments]


def test_the_longest_gap_between_answers_and_where_it_began() -> None:
    samples = _answered_at(10.1, 10.2, 12.5, 12.6)
    assert longest_silence(samples, 10.0, 13.0) == (2300.0, 0.2)


def test_silence_at_the_edges_of_the_window_counts() -> None:
    assert longest_silence(_answered_at(10.5), 10.0, 14.0) == (3500.0, 0.5)
    assert longest_silence([], 10.0, 11.0) == (1000.0, 0.0)


def test_answers_outside_the_window_are_ignored() -> None:
    samples = _answered_at(9.0, 10.4, 15.0)
    assert longest_silence(samples, 10.0, 11.0) == (600.0, 0.4)


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) == 0.0
