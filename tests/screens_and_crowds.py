"""Made-up pictures that trip face finders, drawn at run time from ../shared/photos (nothing is saved):
phone screenshots (a status bar with its clock, battery and wifi, text, app icons, a big lock-screen clock),
some holding a real face; crowded selfies whose faces are cut by the picture's edges or partly hidden; webcam
photos of a phone showing a portrait; portraits cut by the bottom edge through the eyes or the nose.

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


# A photo of a phone's screen, as a webcam takes it: the phone (a dark body round a screenshot of a photo app:
# status bar with its clock, a title bar, the portrait, a toolbar) lies on a blurred desk, turned and tilted in
# perspective, the picture blurred, striped by moiré, noisy and JPEG-compressed, at a webcam's 1280x720 or
# 640x480. PHONE_SHOTS lists the ways a set of them is taken: (frame width, the phone's height in frame heights,
# where the phone's top is in frame heights (None: the phone centred; below 0 its top is cut off, the status
# bar at the frame's top edge), tilt of the phone in degrees, share of the screen's height its far side shrinks
# by, blur sigma, moiré strength, noise sigma, JPEG quality).
PHONE_SHOTS = [(1280, 0.88, None, 0, 0.0, 0.0, 0.0, 0.0, 95), (1280, 0.88, None, 8, 0.12, 1.0, 0.06, 3.0, 80),
               (1280, 1.8, 0.05, -12, 0.2, 1.5, 0.1, 5.0, 70), (640, 0.88, None, 5, 0.08, 0.8, 0.08, 4.0, 75),
               (640, 1.5, -0.04, -4, 0.1, 1.2, 0.12, 6.0, 60), (1280, 2.4, -0.07, 2, 0.1, 2.0, 0.15, 8.0, 50),
               (1280, 1.3, -0.03, 3, 0.05, 0.6, 0.04, 2.0, 90), (1280, 1.8, -0.06, 0, 0.0, 1.0, 0.05, 3.0, 85)]


def photo_app(photo: np.ndarray, name: str, theme: str = "dark", clock: str = "11:35", width: int = 540,
              ) -> tuple[np.ndarray, list]:
    """A phone's screen (width x 2.17 width) showing a portrait in a photo viewer: a status bar with its clock,
    a title bar (back arrow, the picture's name, share and menu glyphs), the portrait fitted to the width and
    centred, a toolbar of four glyphs; and where the portrait's faces are on the screen."""
    paper, ink = THEMES[theme]
    scale = width / 540
    height = int(width * 2.17)
    canvas = np.full((height, width, 3), paper, np.uint8)
    fit = width / photo.shape[1]
    shown = cv2.resize(photo, (width, max(1, round(photo.shape[0] * fit))), interpolation=cv2.INTER_AREA)
    shown = shown[:int(0.75 * height)]
    top = (height - shown.shape[0]) // 2
    canvas[top:top + shown.shape[0]] = shown
    faces = [(round(x * fit), round(top + y * fit), round(w * fit)) for x, y, w in FACES[name]
             if y * fit < shown.shape[0]]
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    _status_bar(draw, width, scale, clock, ink)
    bar = int(60 * scale)
    middle = int(44 * scale) + bar // 2
    line = max(2, int(4 * scale))
    draw.line((int(24 * scale), middle, int(48 * scale), middle - int(14 * scale)), fill=ink, width=line)
    draw.line((int(24 * scale), middle, int(48 * scale), middle + int(14 * scale)), fill=ink, width=line)
    _text(draw, (int(70 * scale), middle), name.split(".")[0].upper() + ".JPG", int(26 * scale), ink, "lm")
    for dot in range(3):  # the menu: three dots
        draw.ellipse((width - int(34 * scale), middle - int((16 - 12 * dot) * scale) - line,
                      width - int(34 * scale) + 2 * line, middle - int((16 - 12 * dot) * scale) + line), fill=ink)
    share = (width - int(90 * scale), middle)
    draw.ellipse((share[0] - line * 2, share[1] - line * 2, share[0] + line * 2, share[1] + line * 2), outline=ink,
                 width=line)
    tools = height - int(70 * scale)
    for index in range(4):  # the toolbar: a heart, a pencil's box, a circle, a bin's lid
        x = int((0.125 + 0.25 * index) * width)
        r = int(18 * scale)
        [lambda: draw.ellipse((x - r, tools - r, x + r, tools + r), outline=ink, width=line),
         lambda: draw.rectangle((x - r, tools - r, x + r, tools + r), outline=ink, width=line),
         lambda: draw.regular_polygon((x, tools, r), 3, outline=ink, width=line),
         lambda: draw.line((x - r, tools - r // 2, x + r, tools - r // 2), fill=ink, width=line)][index]()
    return np.asarray(image).copy(), faces


def phone_photo(photo: np.ndarray, name: str, frame_width: int = 1280, size: float = 0.88,
                top: float | None = None, tilt: float = 8, far_side: float = 0.12,
                blur: float = 1.0, moire: float = 0.06, noise: float = 3.0, quality: int = 80, theme: str = "dark",
                clock: str = "11:35", seed: int = 0) -> tuple[np.ndarray, list]:
    """A webcam's photo (frame_width x 9/16 of it, or 3/4 at 640) of a phone showing the named photo in a photo
    app (photo_app), and where its faces went: each face's centre carried through the same warp, its width
    the warped width of its box; a face whose centre left the frame is not listed."""
    rng = np.random.default_rng(seed)
    frame_height = frame_width * 3 // 4 if frame_width <= 640 else frame_width * 9 // 16
    desk = cv2.resize(photo, (frame_width, frame_height), interpolation=cv2.INTER_AREA)
    desk = cv2.GaussianBlur((desk * 0.35 + np.array([120, 95, 70]) * 0.65).astype(np.uint8), (0, 0),
                            frame_width / 40)
    screen, screen_faces = photo_app(photo, name, theme, clock)
    border = 22  # the phone's body round its screen, in screen pixels
    phone = np.full((screen.shape[0] + 2 * border, screen.shape[1] + 2 * border, 3), 25, np.uint8)
    phone[border:-border, border:-border] = screen
    height, width = phone.shape[:2]
    # the phone stands size frames tall, turned by tilt, its far (right) side shrunk by far_side
    stretch = size * frame_height / height
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    squeeze = far_side * height / 2
    tilted = np.float32([[0, 0], [width, squeeze], [width, height - squeeze], [0, height]]) * stretch
    turn = cv2.getRotationMatrix2D((0, 0), tilt, 1.0)
    tilted = tilted @ turn[:, :2].T
    middle = frame_height / 2 if top is None else (top + size / 2) * frame_height
    tilted += np.float32([frame_width / 2, middle]) - tilted.mean(axis=0)
    warp = cv2.getPerspectiveTransform(corners, tilted.astype(np.float32))
    mask = cv2.warpPerspective(np.full((height, width), 255, np.uint8), warp, (frame_width, frame_height))
    shot = cv2.warpPerspective(phone, warp, (frame_width, frame_height), flags=cv2.INTER_AREA)
    picture = np.where(mask[..., None] > 127, shot, desk).astype(np.float32)
    if blur:
        picture = cv2.GaussianBlur(picture, (0, 0), blur)
    if moire:  # the screen's pixel grid beating with the camera's: slanted colour fringes over the screen
        ys, xs = np.mgrid[0:frame_height, 0:frame_width].astype(np.float32)
        waves = np.sin(0.9 * xs + 0.35 * ys)[..., None] * np.float32([1, -0.6, 0.4])
        picture += (mask[..., None] / 255) * moire * 255 * waves
    picture += rng.normal(0, noise, picture.shape).astype(np.float32) if noise else 0
    picture = np.clip(picture, 0, 255).astype(np.uint8)
    _, encoded = cv2.imencode(".jpg", picture[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    picture = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1].copy()
    faces = []
    for x, y, w in screen_faces:
        points = np.float32([[[x + border, y + border], [x + border - w / 2, y + border],
                              [x + border + w / 2, y + border]]])
        (cx, cy), left, right = cv2.perspectiveTransform(points, warp)[0]
        if 0 <= cx < frame_width and 0 <= cy < frame_height:
            faces.append(visible_part((cx, cy, float(np.hypot(*(right - left)))), frame_width, frame_height))
    return picture, faces


def phone_photos(photos: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray, list]]:
    """Every photo on a phone, each taken one of the PHONE_SHOTS ways in turn (the couple's twice), dark and
    light apps alternating, the clock "11:35" or "10:08"."""
    made = []
    for index, name in enumerate(sorted(photos)):
        shot = PHONE_SHOTS[index % len(PHONE_SHOTS)]
        theme, clock = ("dark", "11:35") if index % 2 == 0 else ("light", "10:08")
        made.append((f"phone {name} {shot[0]} x{shot[1]} tilt {shot[3]}",
                     *phone_photo(photos[name], name, *shot, theme=theme, clock=clock, seed=index)))
    return made


EYE_LINE = 0.12  # a face's eyes lie about this share of its width above its centre (tests/real_photos.py)


def eye_cuts(photos: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray, list]]:
    """Each photo framed 3 face widths wide around its (first) face, from 1.5 widths above the face's centre down
    to a bottom edge through the face: through its eyes (the picture shows forehead and hair, no face) or through
    its nose (the eyes inside: a face cut by the edge). Its faces: the cut one where its eyes are inside, then
    any other whose centre is in the picture, as far as they show."""
    made = []
    for name, photo in sorted(photos.items()):
        x, y, w = FACES[name][0]
        for through, below in (("eyes", -EYE_LINE), ("nose", 0.0)):
            top, bottom = max(0, int(y - 1.5 * w)), int(y + below * w)
            left, right = max(0, int(x - 1.5 * w)), min(photo.shape[1], int(x + 1.5 * w))
            cut = photo[top:bottom, left:right]
            listed = [(x, y, w)] if through == "nose" else []
            listed += [(cx, cy, cw) for cx, cy, cw in FACES[name][1:] if left <= cx < right and top <= cy < bottom]
            shown = [visible_part((cx - left, cy - top, cw), cut.shape[1], cut.shape[0]) for cx, cy, cw in listed]
            made.append((f"{name} cut through the {through}", cut, shown))
    return made


SIDE_CUTS = (0.55, 0.7, 0.9, 1.2)  # where a side edge cuts, in face widths from the face's centre


def side_cuts(photos: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray, list]]:
    """Each photo framed around its (first) face, 1.2 face widths above its centre to 1.6 below, one side 1.5
    widths away and the other cut beside the face (SIDE_CUTS: through the ear and hair, the shoulder, the
    background): hair, cloth and background reach that edge, and the mirror continues them. Its faces: the
    whole first one, then any other whose centre is in the picture, as far as they show."""
    made = []
    for name, photo in sorted(photos.items()):
        x, y, w = FACES[name][0]
        height, width = photo.shape[:2]
        top, bottom = max(0, int(y - 1.2 * w)), min(height, int(y + 1.6 * w))
        for side in ("left", "right"):
            for share in SIDE_CUTS:
                near, far = int(share * w), int(1.5 * w)
                left, right = (max(0, x - near), min(width, x + far)) if side == "left" else \
                    (max(0, x - far), min(width, x + near))
                cut = photo[top:bottom, left:right]
                listed = [(cx, cy, cw) for cx, cy, cw in FACES[name] if left <= cx < right and top <= cy < bottom]
                shown = [visible_part((cx - left, cy - top, cw), cut.shape[1], cut.shape[0]) for cx, cy, cw in listed]
                made.append((f"{name} cut {share} face widths to its {side}", cut, shown))
    return made


SLIVERS = (0.05, 0.1, 0.2, 0.3)  # how much of a face the side edge cuts off, in face widths


def sliver_cuts(photos: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray, list]]:
    """Each photo with its (first) face cut by the right or the left edge through SLIVERS of its width, the rest
    of the photo as it was: a face cut by a sliver, or by a third, at a side. Its faces: those whose centre is in
    the picture, listed whole."""
    made = []
    for name, photo in sorted(photos.items()):
        x, _, w = FACES[name][0]
        for share in SLIVERS:
            for side in ("right", "left"):
                left = max(0, int(x - w / 2 + share * w)) if side == "left" else 0
                right = int(x + w / 2 - share * w) if side == "right" else photo.shape[1]
                listed = [(cx - left, cy, cw) for cx, cy, cw in FACES[name] if left <= cx < right]
                made.append((f"{name} cut {share:.0%} at the {side}", np.ascontiguousarray(photo[:, left:right]),
                             listed))
    return made
