"""How much one batch of uploaded pictures may hold: a bound on the number of files and their total size
(Streamlit's own limit, server.maxUploadSize, is per file)."""

MAX_FILES = 100
MAX_TOTAL_MB = 200
PICTURE_TYPES = ["jpg", "jpeg", "jfif", "png", "webp", "bmp", "gif", "tif", "tiff", "heic", "heif"]


def uploads_to_take(sizes: list[int]) -> tuple[int, str]:
    """How many uploads, in order, fit the bounds, and a one-line note naming what is left out ("" for none).

    Example: uploads_to_take([10] * 120) -> (100, "Only the first 100 of 120 pictures are read: ...")
    """
    taken, total = 0, 0
    for size in sizes[:MAX_FILES]:
        if total + size > MAX_TOTAL_MB * 2**20:
            break
        taken, total = taken + 1, total + size
    if taken == len(sizes):
        return taken, ""
    return taken, (f"Only the first {taken} of {len(sizes)} pictures are read (at most {MAX_FILES} pictures and "
                   f"{MAX_TOTAL_MB} MB at once): remove some, then add the rest in another batch.")
