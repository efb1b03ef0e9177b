"""Datasets: reading a folder of class folders, train/ and test/ folders, fer2013.csv or a zip into 48x48
faces (dataset, archives), the classes and people they name (classes, emotions, people), class balance and
overviews (balance, overview), shards and streams for large sets (shards, streaming), and the examples a
user captures of their own classes (captures).

May import core.storage and core.vision.
"""
