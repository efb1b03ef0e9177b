"""Not a page: an accuracy drawn as a metric with its gain over always answering the commonest class, coloured
only where it means something: green for a real gain, red for a loss, gray for none (as "+0.0 pts")."""

from core.evaluation.scores import NO_BETTER_MARGIN, baseline_note, baseline_of


def accuracy_metric(where, label: str, metrics: dict, help: str | None = None) -> None:
    """where: st or a column; metrics: a card's or report's scores (core.evaluation.scores.card_metrics)."""
    value = f"{metrics['accuracy']:.1%}" if "accuracy" in metrics else "n/a"
    baseline = baseline_of(metrics)
    gain = metrics["accuracy"] - baseline[0] if baseline and "accuracy" in metrics else 0.0
    colour = "normal" if gain < 0 and round(gain * 100, 1) != 0 or gain > NO_BETTER_MARGIN else "off"
    where.metric(label, value, baseline_note(metrics), delta_color=colour, help=help)
