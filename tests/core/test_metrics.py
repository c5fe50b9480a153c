"""The escalation metrics, on cases small enough to check by hand."""

from __future__ import annotations

import pytest

from app.core.confidence.metrics import auroc, call_performance_threshold, deferral_curve, expected_calibration_error


def test_auroc_is_one_when_every_right_answer_is_more_confident():
    assert auroc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0.0


def test_auroc_counts_ties_as_half_and_needs_both_classes():
    assert auroc([0.5, 0.5], [True, False]) == 0.5
    assert auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert auroc([0.3, 0.6], [True, True]) is None


def test_calibration_error_is_the_gap_between_confidence_and_accuracy():
    assert expected_calibration_error([0.95] * 10, [True] * 10) == pytest.approx(0.05)
    assert expected_calibration_error([0.9] * 10, [True] * 5 + [False] * 5) == pytest.approx(0.4)


def test_deferring_the_least_confident_answers_first():
    curve = deferral_curve([0.9, 0.1, 0.5, 0.2], [True, False, True, False], [True, True, True, True])
    assert curve.accuracy == [0.5, 0.75, 1.0, 1.0, 1.0]
    assert curve.random_accuracy == pytest.approx([0.5, 0.625, 0.75, 0.875, 1.0])
    assert curve.oracle_accuracy == [0.5, 0.75, 1.0, 1.0, 1.0]
    assert curve.area == pytest.approx(0.875) and curve.random_area == pytest.approx(0.75)
    assert call_performance_threshold(curve, 0.8) == 0.5
    assert call_performance_threshold(curve, 0.5) == 0.25


def test_no_gap_to_recover_means_no_cpt():
    curve = deferral_curve([0.2, 0.8], [True, False], [True, False])
    assert call_performance_threshold(curve, 0.8) is None
