"""Not a page: the confusion matrix every page draws (Evaluate, Teach) as a plotly figure: a square a cell (so a click selects
it), holding its count and its share of the true class's faces, coloured by that share, the diagonal framed."""

import numpy as np
import pandas as pd
import plotly.express as px

DARK_CELL_SHARE = 0.55  # cells this dark (share of their row) carry white text


def confusion_figure(matrix: np.ndarray, classes: list[str]):
    """matrix[true, predicted] counts; rows are the true classes, from the top, in the model's order."""
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    cells = pd.DataFrame([{"true": true, "predicted": called, "share": shares[i, j],
                           "text": f"{matrix[i, j]:,}<br>{shares[i, j]:.0%}"}
                          for i, true in enumerate(classes) for j, called in enumerate(classes)])
    figure = px.scatter(cells, x="predicted", y="true", color="share", color_continuous_scale="Blues", text="text",
                        range_color=[0, 1], category_orders={"predicted": classes, "true": classes},
                        labels={"predicted": "Predicted class (what the model said)", "true": "True class",
                                "share": "share of the<br>true class"},
                        hover_data={"text": False, "share": ":.1%"})
    diagonal = [i == j for i in range(len(classes)) for j in range(len(classes))]
    side = max(18, min(44, 440 // max(len(classes), 1)))
    figure.update_traces(marker={"symbol": "square", "size": side,
                                 "line": {"width": [3 if mine else 0 for mine in diagonal], "color": "#2e7d32"}},
                         textposition="middle center",
                         textfont={"color": ["white" if share > DARK_CELL_SHARE else "#1f2937"
                                             for share in cells["share"]], "size": 11 if side >= 40 else 9})
    # The first class on top, as a matrix is read: a category axis runs upwards, so the classes are given last first.
    figure.update_yaxes(categoryorder="array", categoryarray=classes[::-1], autorange=True)
    figure.update_layout(height=max(360, side * len(classes) + 160))
    return figure
