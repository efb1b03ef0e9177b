"""Facial emotion recognition on FER-2013: data, training, evaluation and prediction.

Nothing in this package imports Streamlit: the pages, the command line and the tests
all call into it.
"""
