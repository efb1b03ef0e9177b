"""The HTTP API for app builders (`python -m core serve`): one model loaded once, faces found as Predict finds
them and classified by its runtime, faces of requests that arrive together classified in one network call
(batching), bounds and sign-in checked before any picture is decoded (limits), the routes (app).

May import every package below it: core.storage, core.vision, core.data, core.models, core.evaluation and
core.prediction. Stands beside core.training; neither imports the other.
"""
