"""Pictures and faces, without a model: decoding untrusted picture files within bounds (imaging), finding,
aligning and cropping faces (faces), following faces through frames (tracking, frame_rate), and Grad-CAM
heat maps over a given network (explain).

May import core.storage only.
"""
