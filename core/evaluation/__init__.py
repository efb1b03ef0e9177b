"""Judging models: scores on a labelled split (scores: accuracy, macro F1, confusion matrix, the
commonest-class baseline), reports kept on disk (reports), exports to LiteRT and ONNX checked against
Keras, with the runtime Predict uses (export), and the Runs table's summaries (comparison).

May import core.storage, core.vision, core.data and core.models.
"""
