"""Facial expression recognition on FER-2013 or a user's own classes: data, training, evaluation and
prediction, as packages that import only those below them:

    storage -> vision -> data -> models -> evaluation -> prediction | training -> cli

(docs/architecture.md draws them). Nothing in this package imports Streamlit: the pages, the command
line and the tests all call into it.
"""
