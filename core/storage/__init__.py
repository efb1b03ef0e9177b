"""What the product keeps on disk and where it may read or write: run folders (core.storage.runs: config,
progress events, checkpoints, cards, models), private temporary folders, uploads kept by content, the
folders a typed path may name, the shipped model's protection, the app's starting dataset.

Imports nothing else from core: every other package stands on it.
"""
