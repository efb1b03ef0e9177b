"""Using a model on pictures: faces found and classified in a photo (pictures), a folder of photos
resumable into a CSV (folders), a video face by face with tracks (video), webcam frames captured as
examples (recording), and results as tables, JSON and zips (results).

May import every package below it: core.storage, core.vision, core.data, core.models, core.evaluation.
"""
