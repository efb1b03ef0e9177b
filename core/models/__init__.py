"""Networks: the architectures the product trains, the model store (loading after checking a file's
config, saving, cards, the default model), and classifying faces with test-time views (inference).

May import core.storage, core.vision and core.data.
"""
