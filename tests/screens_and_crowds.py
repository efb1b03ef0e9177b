"""Made-up pictures that trip face finders, drawn at run time from ../shared/photos (nothing is saved):
phone screenshots (a status bar with its clock, battery and wifi, text, app icons, a big lock-screen clock),
some holding a real face, and crowded selfies whose faces are cut by the picture's edges or partly hidden.

Each maker returns the picture and its faces as (centre x, centre y, width), as tests/real_photos.py lists
them; a face cut by an edge is listed as far as it shows (visible_part). Used by tests/test_face_finding.py
and bench/face_finding.py.
"""

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.real_photos import FACES

THEMES = {"light": ((246, 246, 246), (20, 20, 20)), "dark": ((16, 16, 20), (236, 236, 236))}  # paper, ink
ICON_COLOURS = [(52, 120, 246), (52, 199, 89), (255, 149, 0), (255, 59, 48), (175, 82, 222), (90, 200, 250),
                (255, 204, 0), (142, 142, 147), (232, 180, 150), (200, 150, 120)]  # the last two skin-like
WORDS = "see you at the station then call me when you are home ok thanks lunch tomorrow meeting moved".split()


def face_cut(photo: np.ndarray, name: str, width: int, context: float = 0.9) -> tuple[np.ndarray, tuple]:
    """A photo's (first) face with its hair and chin, scaled so the face is width pixels wide, and where
    the face's centre lies in the cut."""
    x, y, w = FACES[name][0]
    half = int(w * context)
    top, left = max(0, y - half), max(0, x - half)
    cut = cv2.resize(photo[top:y + half, left:x + half], None, fx=width / w, fy=width / w,
                     interpolation=cv2.INTER_AREA)
    return cut, ((x - left) * width / w, (y - top) * width / w)


def visible_part(face: tuple, width: int, height: int) -> tuple[int, int, int]:
    """A face (centre x, centre y, width; as tall as wide) as far as it lies inside a width x height picture."""
    x, y, w = face
    left, right = max(0, x - w / 2), min(width, x + w / 2)
    top, bottom = max(0, y - w / 2), min(height, y + w / 2)
    return round((left + right) / 2), round((top + bottom) / 2), round(right - left)


def _paste(canvas: np.ndarray, cut: np.ndarray, left: int, top: int) -> None:
    """Paste cut with its top left corner at (left, top), anything beyond the canvas left out."""
    height, width = canvas.shape[:2]
    y0, x0 = max(0, top), max(0, left)
    y1, x1 = min(height, top + cut.shape[0]), min(width, left + cut.shape[1])
    if y1 > y0 and x1 > x0:
        canvas[y0:y1, x0:x1] = cut[y0 - top:y1 - top, x0 - left:x1 - left]


def _text(draw: ImageDraw.ImageDraw, xy, words: str, size: int, ink, anchor: str = "la") -> None:
    draw.text(xy, words, fill=ink, font=ImageFont.load_default(size), anchor=anchor)


def _status_bar(draw: ImageDraw.ImageDraw, width: int, scale: float, clock: str, ink) -> None:
    """A phone's status bar: the clock on the left; signal bars, wifi arcs and a battery on the right."""
    bar = int(44 * scale)
    _text(draw, (int(28 * scale), bar // 2), clock, int(30 * scale), ink, "lm")
    right = width - int(24 * scale)
    battery = (right - int(46 * scale), bar // 2 - int(11 * scale), right - int(6 * scale), bar // 2 + int(11 * scale))
    draw.rounded_rectangle(battery, radius=int(5 * scale), outline=ink, width=max(1, int(2 * scale)))
    draw.rectangle((battery[0] + int(4 * scale), battery[1] + int(4 * scale), battery[2] - int(14 * scale),
                    battery[3] - int(4 * scale)), fill=ink)
    draw.rectangle((right - int(5 * scale), bar // 2 - int(4 * scale), right, bar // 2 + int(4 * scale)), fill=ink)
    centre = (right - int(74 * scale), bar // 2 + int(10 * scale))
    for radius in (6, 13, 20):  # wifi: three arcs over a dot
        r = int(radius * scale)
        draw.arc((centre[0] - r, centre[1] - r, centre[0] + r, centre[1] + r), 225, 315, fill=ink,
                 width=max(1, int(4 * scale)))
    for index in range(4):  # signal: four rising bars
        x = right - int((130 - 10 * index) * scale)
        draw.rectangle((x, bar // 2 + int((8 - 5 * index) * scale), x + int(6 * scale), bar // 2 + int(11 * scale)),
                       fill=ink)


def screenshot(kind: str, theme: str = "light", clock: str = "11:35", width: int = 540, seed: int = 0,
               face: tuple[np.ndarray, str] | None = None) -> tuple[np.ndarray, list]:
    """A phone screenshot (width x 2.17 width) of one kind, "home" (a grid of app icons), "lock" (a big clock
    and the date), "chat" (bubbles of text, a contact's round avatar) or "settings" (rows of text and
    switches), under a status bar whose clock reads clock. A given (photo, name) puts its face in: a photo
    sent in the chat, the lock screen's wallpaper, or a tile on the home screen."""
    rng = np.random.default_rng(seed)
    paper, ink = THEMES[theme]
    scale = width / 540
    height = int(width * 2.17)
    canvas = np.full((height, width, 3), paper, np.uint8)
    faces = []
    if face is not None:  # the face goes in first: the text is drawn over a lock screen's wallpaper
        photo, name = face
        size = {"lock": int(0.55 * width), "chat": int(0.32 * width)}.get(kind, int(0.22 * width))
        cut, (cx, cy) = face_cut(photo, name, size)
        left, top = {"lock": (int(0.2 * width), int(0.45 * height)), "chat": (int(0.45 * width), int(0.5 * height)),
                     }.get(kind, (int(0.06 * width), int(0.72 * height)))
        _paste(canvas, cut, left, top)
        faces.append((round(left + cx), round(top + cy), size))
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    _status_bar(draw, width, scale, clock, ink)
    if kind == "lock":
        _text(draw, (width // 2, int(0.12 * height)), clock, int(150 * scale), ink, "mt")
        _text(draw, (width // 2, int(0.1 * height)), "Tuesday 14 March", int(30 * scale), ink, "mb")
    elif kind == "home":
        side, gap = int(92 * scale), int(36 * scale)
        for row in range(5):
            for column in range(4):
                x, y = gap + column * (side + gap), int(120 * scale) + row * (side + int(70 * scale))
                colour = ICON_COLOURS[int(rng.integers(len(ICON_COLOURS)))]
                draw.rounded_rectangle((x, y, x + side, y + side), radius=side // 4, fill=colour)
                glyph = int(rng.integers(3))  # a white circle, two dots over a bar, or a letter
                if glyph == 0:
                    draw.ellipse((x + side // 4, y + side // 4, x + 3 * side // 4, y + 3 * side // 4),
                                 outline=(255, 255, 255), width=max(2, side // 12))
                elif glyph == 1:
                    for dot_x in (x + side // 3, x + 2 * side // 3):
                        draw.ellipse((dot_x - side // 12, y + side // 3 - side // 12, dot_x + side // 12,
                                      y + side // 3 + side // 12), fill=(255, 255, 255))
                    draw.rectangle((x + side // 3, y + 3 * side // 5, x + 2 * side // 3, y + 2 * side // 3),
                                   fill=(255, 255, 255))
                else:
                    _text(draw, (x + side // 2, y + side // 2), "ABCMQ"[int(rng.integers(5))], side // 2,
                          (255, 255, 255), "mm")
                _text(draw, (x + side // 2, y + side + int(8 * scale)), rng.choice(WORDS).title(), int(20 * scale),
                      ink, "mt")
    else:
        top = int(70 * scale)
        if kind == "chat":  # the header: an avatar of initials, the contact's name, the time
            draw.ellipse((int(20 * scale), top, int(84 * scale), top + int(64 * scale)), fill=ICON_COLOURS[4])
            _text(draw, (int(52 * scale), top + int(32 * scale)), "JD", int(28 * scale), (255, 255, 255), "mm")
            _text(draw, (int(100 * scale), top + int(32 * scale)), f"Jo Doe  {clock}", int(30 * scale), ink, "lm")
            top += int(100 * scale)
        for row in range(14):
            y = top + row * int(62 * scale)
            if face is not None and kind == "chat" and faces and abs(y - faces[0][1]) < 0.3 * height // 2:
                continue  # leave room for the photo
            words = " ".join(rng.choice(WORDS, int(rng.integers(2, 6))))
            if kind == "chat":
                mine = row % 3 == 1
                x = width - int(30 * scale) - int(len(words) * 13 * scale) if mine else int(30 * scale)
                bubble = (90, 160, 250) if mine else tuple(int(0.85 * c + 0.15 * (255 - c)) for c in paper)
                draw.rounded_rectangle((x - int(12 * scale), y - int(8 * scale), x + int(len(words) * 13 * scale),
                                        y + int(42 * scale)), radius=int(18 * scale), fill=bubble)
                _text(draw, (x, y), words, int(24 * scale), ink)
                _text(draw, (x, y + int(28 * scale)), f"{10 + row % 3}:{(35 + 7 * row) % 60:02d}", int(12 * scale),
                      ink)
            else:
                _text(draw, (int(30 * scale), y), words.capitalize(), int(28 * scale), ink)
                on = row % 2 == 0
                x = width - int(100 * scale)
                draw.rounded_rectangle((x, y - int(4 * scale), x + int(70 * scale), y + int(36 * scale)),
                                       radius=int(20 * scale), fill=(52, 199, 89) if on else (200, 200, 200))
                knob = x + (int(34 * scale) if on else 0)
                draw.ellipse((knob + int(2 * scale), y - int(2 * scale), knob + int(34 * scale), y + int(34 * scale)),
                             fill=(255, 255, 255))
    return np.asarray(image).copy(), faces


def screenshots(photos: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray, list]]:
    """16 screenshots: each kind in either theme and at two sizes, without a face and with one face
    (the photos in turn), labelled by kind, theme, width and face."""
    made, names = [], iter(sorted(photos) * 2)
    for kind in ("home", "lock", "chat", "settings"):
        for theme, clock, width in (("light", "11:35", 540), ("dark", "10:08", 1080)):
            made.append((f"{kind} {theme} {width}", *screenshot(kind, theme, clock, width, seed=len(made))))
            name = next(names)
            made.append((f"{kind} {theme} {width} + {name}",
                         *screenshot(kind, theme, clock, width, seed=len(made), face=(photos[name], name))))
    return made


# A crowded selfie: (face width, left, top) of each face's cut in a 960x640 picture; negative or past the
# picture's side means cut by that edge. The first three are cut by the left and right edges (45% of the face
# out of the picture) and by the top (the forehead out, the eyes in); the rest lie inside, close together,
# each pasted over its neighbours' cuts.
CUT_BY_EDGES = 3  # the first three of CROWD
HIDDEN = (3, 4)  # the faces of CROWD a rectangle partly hides, where crowd() hides any
CROWD = [(210, -147, 240), (190, 808, 200), (170, 370, -80), (160, 150, 120), (150, 560, 110), (140, 280, 330),
         (150, 600, 380)]


def crowd(photos: dict[str, np.ndarray], names: list[str], hide: bool = False) -> tuple[np.ndarray, list]:
    """A crowded selfie of len(CROWD) faces of the named photos; hide lays a rectangle (a raised hand, a
    phone) over part of two inner faces (HIDDEN): the mouth and chin of one, the right quarter
    of another."""
    canvas = cv2.resize(photos[names[0]], (960, 640), interpolation=cv2.INTER_AREA)
    canvas = cv2.GaussianBlur(canvas, (0, 0), 25)  # the place behind, out of focus
    faces = []
    for (width, left, top), name in zip(CROWD, names):
        cut, (cx, cy) = face_cut(photos[name], name, width, context=0.75)
        _paste(canvas, cut, left, top)
        faces.append(visible_part((left + cx, top + cy, width), canvas.shape[1], canvas.shape[0]))
    if hide:
        covers = ((-0.6, 0.2, 0.6, 0.9), (0.25, -0.7, 0.8, 0.7))  # of the face's width, from its centre
        for (x, y, w), (dx0, dy0, dx1, dy1) in zip([faces[index] for index in HIDDEN], covers):
            cv2.rectangle(canvas, (int(x + dx0 * w), int(y + dy0 * w)), (int(x + dx1 * w), int(y + dy1 * w)),
                          (70, 60, 55), -1)
    return canvas, faces


def crowds(photos: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray, list]]:
    """4 crowded selfies, each of 7 different people, two with faces partly hidden."""
    names = sorted(photos)
    made = []
    for index in range(4):
        chosen = [names[(index * 4 + k) % len(names)] for k in range(len(CROWD))]
        made.append((f"crowd {index + 1}{' hidden' if index % 2 else ''}",
                     *crowd(photos, chosen, hide=bool(index % 2))))
    return made


EDGE_SHARES = {"left": 0.45, "top": 0.3, "right": 0.45, "bottom": 0.45}  # the top cut keeps the eyes in


def edge_cuts(photos: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray, list]]:
    """Each photo framed around its (first) face, 2 face widths square, so that part of the face lies beyond
    one edge, left, top, right, bottom in turn (EDGE_SHARES of the face's width): a face cut by the picture's
    edge. Its faces: that one first, then any other whose centre is in the picture."""
    made = []
    for index, (name, photo) in enumerate(sorted(photos.items())):
        x, y, w = FACES[name][0]
        side = 2 * w
        edge = list(EDGE_SHARES)[index % 4]
        share = EDGE_SHARES[edge]
        start = {"left": x - w / 2 + share * w, "right": x + w / 2 - share * w - side}.get(edge, x - side / 2)
        start_y = {"top": y - w / 2 + share * w, "bottom": y + w / 2 - share * w - side}.get(edge, y - side / 2)
        left, top = int(max(0, start)), int(max(0, start_y))  # beyond the photo's own side, the photo ends
        right, bottom = int(start + side), int(start_y + side)
        cut = photo[top:bottom, left:right]
        others = [(cx - left, cy - top, cw) for cx, cy, cw in FACES[name][1:]
                  if 0 <= cx - left < cut.shape[1] and 0 <= cy - top < cut.shape[0]]
        made.append((f"{name} cut {edge}", cut, [visible_part((x - left, y - top, w), cut.shape[1], cut.shape[0]),
                                                 *others]))
    return made
