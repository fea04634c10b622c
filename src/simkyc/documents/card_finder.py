"""Finding an identity card in a photo: its four corners, then the card flattened.

On a copy no larger than 800 px, candidate outlines come from several segmentations: colours
rare along the photo's border (a colour model of the desk, texture included), colours far
from the border's median, the brighter half of the picture, and Canny edges at two strengths
and in colour. Each outline's convex hull is reduced to four corners, each side refitted as a
straight line (cards have rounded corners), and kept when it is shaped like a card: convex,
well backed by its segmentation, corner angles within reason, sides in the ratio of an ID-1
card (1.586) give or take what a 30-degree tilt does. One outline per card is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from simkyc.documents.card_geometry import CARD_SIZE
from simkyc.errors import MultipleDocuments, NoDocumentFound
from simkyc.types import Image

Points = NDArray[np.float32]

# Long side / short side of a card's outline in a photo. ID-1 is 85.60 x 53.98 mm (1.586); a
# 30-degree tilt foreshortens one side by cos 30 = 0.87 and perspective adds a little.
ASPECT_RANGE = (1.25, 2.1)
FIND_MAX_SIDE = 800
MIN_CARD_AREA = 0.03  # of the image: smaller outlines are print, not a card to read
MIN_FILL = 0.88  # region area / quadrilateral area
MIN_SUPPORT = 0.75  # share of a quadrilateral's perimeter on detected edges
FIRM_EVIDENCE = 0.9  # fill or support above which an outline is trusted over a larger one
# A colour is the surface's when at least this share of the border's pixels have it.
BORDER_COMMON = 5e-4
COLOUR_BINS = 32  # per Lab channel
MIN_CORNER_DEG, MAX_CORNER_DEG = 55.0, 125.0
SAME_CARD_IOU = 0.6
# A second card with a portrait, at least this fraction of the first's area: which one?
RIVAL_AREA = 0.5


@dataclass(frozen=True, eq=False)
class CardQuad:
    """A card's four corners in image pixels: top-left, top-right, bottom-right, bottom-left.

    Until the card is oriented the "top" is a long side chosen arbitrarily; in a
    PortraitResult the corners are those of the upright card.
    """

    corners: Points
    evidence: float = 1.0  # how well the segmentation backs it: region fill or edge support

    @property
    def area(self) -> float:
        """The quadrilateral's area in square pixels."""
        return float(cv2.contourArea(self.corners))

    @property
    def aspect(self) -> float:
        """Mean length of the top and bottom sides over that of the left and right ones."""
        c = self.corners
        across = np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])
        down = np.linalg.norm(c[3] - c[0]) + np.linalg.norm(c[2] - c[1])
        return float(across) / max(float(down), 1e-6)

    def scaled(self, factor: float) -> CardQuad:
        """The same quadrilateral in an image `factor` times larger."""
        return CardQuad((self.corners * np.float32(factor)).astype(np.float32), self.evidence)

    def turned(self, quarter_turns: int) -> CardQuad:
        """The corners relabelled for the card turned `quarter_turns` x 90 degrees clockwise
        (the old bottom-left corner becomes the top-left one, and so on)."""
        return CardQuad(np.roll(self.corners, quarter_turns, axis=0), self.evidence)


NO_DOCUMENT = (
    "No identity document was found in the photo. Photograph the whole card, flat on a plain "
    "surface of a different colour, filling most of the frame."
)
MULTIPLE = "More than one document is in the photo; photograph only the applicant's document."


def find_card(image: Image) -> CardQuad:
    """The one card-shaped outline in `image`: NO_DOCUMENT if none, MULTIPLE_DOCUMENTS if two.

    Geometry only; `extract_portrait` also asks each outline for a portrait.
    """
    quads = find_cards(image)
    if not quads:
        raise NoDocumentFound(NO_DOCUMENT)
    rivals = [q for q in quads[1:] if q.area >= RIVAL_AREA * quads[0].area]
    if rivals:
        raise MultipleDocuments(MULTIPLE, count=len(rivals) + 1)
    return quads[0]


def find_cards(image: Image) -> list[CardQuad]:
    """Every card-shaped outline, largest first; outlines inside a larger one are dropped."""
    small, factor = shrunk(image, FIND_MAX_SIDE)
    lab = np.asarray(cv2.cvtColor(cv2.GaussianBlur(small, (5, 5), 0), cv2.COLOR_RGB2LAB), np.uint8)
    quads: list[CardQuad] = []
    for mask, outline in _masks(lab):
        quads += _quads(mask, outline=outline)
    return [q.scaled(1 / factor) for q in _distinct(quads)]


def rectify(image: Image, quad: CardQuad, size: tuple[int, int] = CARD_SIZE) -> Image:
    """The card flattened to `size` (width, height): its top-left corner at the origin."""
    width, height = size
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.corners.astype(np.float32), target)
    flat = cv2.warpPerspective(image, matrix, size, flags=cv2.INTER_LINEAR)
    return np.ascontiguousarray(flat, dtype=np.uint8)


# --------------------------------------------------------------------------- #
# Outlines
# --------------------------------------------------------------------------- #


def _masks(lab: NDArray[np.uint8]) -> list[tuple[NDArray[np.uint8], bool]]:
    """Binary images in which a card stands out: as a white region, or (True) as an outline."""
    gray = np.ascontiguousarray(lab[:, :, 0])
    border = _border_mask(lab.shape[0], lab.shape[1])
    regions = [_unlike_border(lab, border), _far_from_border(lab, border), _otsu(gray)]
    # Colour edges find a dark band of the card on a dark desk of another hue.
    chroma = [_edges(np.ascontiguousarray(lab[:, :, channel]), 8, 24) for channel in (1, 2)]
    strong = _edges(gray, 40, 120)
    outlines = [strong, _edges(gray, 15, 45), strong | chroma[0] | chroma[1]]
    return [(mask, False) for mask in regions] + [(mask, True) for mask in outlines]


def _border_mask(height: int, width: int) -> NDArray[np.uint8]:
    """A thin frame along the image's edges: what the card lies on, in a photo of a card."""
    band = max(3, min(height, width) // 100)
    mask = np.full((height, width), 255, np.uint8)
    mask[band:-band, band:-band] = 0
    return mask


def _unlike_border(lab: NDArray[np.uint8], border: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Pixels whose colour is rare along the border: a colour model of the surface, textures
    included. Colours are binned 32 x 32 x 32 in Lab; a bin next to a common one counts as
    common, so a lighting gradient does not turn the desk into foreground."""
    bins = (lab // (256 // COLOUR_BINS)).astype(np.intp)
    edge = bins[border > 0]
    counts = np.zeros((COLOUR_BINS,) * 3, np.int64)
    np.add.at(counts, (edge[:, 0], edge[:, 1], edge[:, 2]), 1)
    common = _grow(counts >= BORDER_COMMON * len(edge))
    rare = ~common[bins[:, :, 0], bins[:, :, 1], bins[:, :, 2]]
    return _clean(np.where(rare, 255, 0).astype(np.uint8))


def _grow(cells: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The cells and their neighbours along each axis of a 3-D grid."""
    grown = cells.copy()
    for axis in range(3):
        padded = np.pad(grown, [(1, 1) if a == axis else (0, 0) for a in range(3)])
        low = np.take(padded, range(0, padded.shape[axis] - 2), axis=axis)
        high = np.take(padded, range(2, padded.shape[axis]), axis=axis)
        grown = grown | low | high
    return grown


def _far_from_border(lab: NDArray[np.uint8], border: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Pixels whose colour is far (Otsu) from the median colour of the border."""
    reference = np.median(lab[border > 0].astype(np.float32), axis=0)
    distance = np.linalg.norm(lab.astype(np.float32) - reference, axis=2)
    scaled = np.clip(distance * (255.0 / max(float(distance.max()), 1.0)), 0, 255).astype(np.uint8)
    _, mask = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return _clean(np.asarray(mask, np.uint8))


def _edges(gray: NDArray[np.uint8], low: int, high: int) -> NDArray[np.uint8]:
    """Canny edges, thickened so that a card's outline closes around it."""
    edges = cv2.Canny(gray, low, high)
    return np.asarray(cv2.dilate(edges, np.ones((3, 3), np.uint8)), np.uint8)


def _otsu(gray: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The brighter half of the picture (cards are usually lighter than desks)."""
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return _clean(np.asarray(mask, np.uint8))


def _clean(mask: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Remove specks and fill small holes."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    return np.asarray(cv2.morphologyEx(opened, cv2.MORPH_CLOSE, kernel), np.uint8)


def _quads(mask: NDArray[np.uint8], *, outline: bool) -> list[CardQuad]:
    """Card-shaped outlines of the mask's white regions that do not touch the image's edge.

    A region must fill its quadrilateral; an edge map's outline may have gaps (low contrast
    against the surface) but must run along most of the quadrilateral's perimeter.
    """
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    height, width = mask.shape
    quads = []
    for found in contours:
        contour = np.asarray(found, np.int32)
        _, _, w, h = cv2.boundingRect(contour)
        if w * h < MIN_CARD_AREA * height * width or _touches_edge(contour, width, height):
            continue
        quad = _quadrilateral(contour)
        if quad is None or not _card_shaped(quad) or quad.area < MIN_CARD_AREA * height * width:
            continue
        if outline:
            evidence, least = _support(mask, quad), MIN_SUPPORT
        else:
            evidence, least = min(1.0, cv2.contourArea(contour) / quad.area), MIN_FILL
        if evidence >= least:
            quads.append(CardQuad(quad.corners, evidence))
    return quads


def _support(edges: NDArray[np.uint8], quad: CardQuad) -> float:
    """The share of points along the quadrilateral's sides (corners aside) on an edge."""
    near = cv2.dilate(edges, np.ones((5, 5), np.uint8))
    steps = np.linspace(0.08, 0.92, 40, dtype=np.float32)[:, None]
    corners = quad.corners
    points = np.concatenate(
        [corners[i] + steps * (corners[(i + 1) % 4] - corners[i]) for i in range(4)]
    )
    x = np.clip(np.round(points[:, 0]).astype(np.intp), 0, edges.shape[1] - 1)
    y = np.clip(np.round(points[:, 1]).astype(np.intp), 0, edges.shape[0] - 1)
    return float((near[y, x] > 0).mean())


def _touches_edge(contour: NDArray[np.int32], width: int, height: int) -> bool:
    """True when the region reaches the image's edge: not a whole card in view."""
    x, y, w, h = cv2.boundingRect(contour)
    return x <= 1 or y <= 1 or x + w >= width - 1 or y + h >= height - 1


def _quadrilateral(contour: NDArray[np.int32]) -> CardQuad | None:
    """Four corners of the contour: its hull's polygon, each side refitted as a straight line."""
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for epsilon in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, epsilon * perimeter, True)
        if len(approx) == 4:
            rough = _long_side_first(approx.reshape(4, 2).astype(np.float32))
            return CardQuad(_refit_sides(rough, contour.reshape(-1, 2).astype(np.float32)))
        if len(approx) < 4:
            return None
    return None


def _refit_sides(corners: Points, outline: Points) -> Points:
    """Corners where lines fitted to each side's outline points meet.

    A polygon's vertices sit inside a card's rounded corners; straight sides fitted away from
    the corners (robustly: Huber loss) and intersected put the corners where they belong.
    """
    lines = []
    for i in range(4):
        near = _side_points(outline, corners[i], corners[(i + 1) % 4])
        if len(near) < 10:
            return corners
        vx, vy, x0, y0 = cv2.fitLine(near, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    refined = [_intersection(lines[i - 1], lines[i]) for i in range(4)]
    if any(point is None for point in refined):
        return corners
    moved = np.array(refined, np.float32)
    side = float(np.linalg.norm(corners[1] - corners[0]))
    if float(np.linalg.norm(moved - corners, axis=1).max()) > 0.1 * side:
        return corners  # the fit went astray: keep the polygon
    return moved


def _side_points(outline: Points, a: Points, b: Points) -> Points:
    """Outline points close to segment a-b and away from its ends."""
    length = float(np.linalg.norm(b - a))
    unit = (b - a) / max(length, 1e-6)
    relative = outline - a
    along = relative @ unit
    across = np.abs(relative @ np.array([-unit[1], unit[0]], np.float32))
    keep = (along > 0.12 * length) & (along < 0.88 * length) & (across < max(3.0, 0.03 * length))
    return np.ascontiguousarray(outline[keep])


def _intersection(
    first: tuple[NDArray[np.float64], NDArray[np.float64]],
    second: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> NDArray[np.float64] | None:
    """Where two lines (point, direction) cross; None if they are nearly parallel."""
    (p, u), (q, v) = first, second
    denominator = u[0] * v[1] - u[1] * v[0]
    if abs(denominator) < 1e-6:
        return None
    t = ((q[0] - p[0]) * v[1] - (q[1] - p[1]) * v[0]) / denominator
    point: NDArray[np.float64] = p + t * u
    return point


def _long_side_first(points: Points) -> Points:
    """Clockwise corners (y down) starting where a long side begins, the leftmost such start."""
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    ordered = points[np.argsort(angles)]  # clockwise on screen
    sides = np.linalg.norm(np.roll(ordered, -1, axis=0) - ordered, axis=1)
    start = 0 if sides[0] + sides[2] >= sides[1] + sides[3] else 1
    if ordered[start + 2].sum() < ordered[start].sum():
        start += 2  # prefer the top-left of the two long-side starts
    return np.roll(ordered, -start, axis=0).astype(np.float32)


def _card_shaped(quad: CardQuad) -> bool:
    """Convex, corners near right angles, sides in a card's ratio."""
    if quad.area <= 0 or not cv2.isContourConvex(quad.corners.reshape(-1, 1, 2)):
        return False
    if not ASPECT_RANGE[0] <= quad.aspect <= ASPECT_RANGE[1]:
        return False
    return all(MIN_CORNER_DEG <= a <= MAX_CORNER_DEG for a in _corner_angles(quad.corners))


def _corner_angles(corners: Points) -> list[float]:
    """The interior angle at each corner, in degrees."""
    angles = []
    for i in range(4):
        a = corners[i - 1] - corners[i]
        b = corners[(i + 1) % 4] - corners[i]
        cosine = float(np.dot(a, b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-6))
        angles.append(float(np.degrees(np.arccos(np.clip(cosine, -1, 1)))))
    return angles


def _distinct(quads: list[CardQuad]) -> list[CardQuad]:
    """One quadrilateral per card, largest first, none lying inside a kept one.

    Of the outlines that several masks give for one card, the largest of those the masks
    back firmly wins: a mask that misses a dark band of the card gives a smaller one, an edge
    map that lets the desk's texture in gives a larger but weakly backed one.
    """
    groups: list[list[CardQuad]] = []
    for quad in sorted(quads, key=lambda q: q.area, reverse=True):
        group = next((g for g in groups if _overlap(quad, g[0]) >= SAME_CARD_IOU), None)
        if group is None:
            groups.append([quad])
        else:
            group.append(quad)
    firm = [[q for q in group if q.evidence >= FIRM_EVIDENCE] or group for group in groups]
    best = [max(group, key=lambda q: q.area) for group in firm]
    kept: list[CardQuad] = []
    for quad in sorted(best, key=lambda q: q.area, reverse=True):
        if not any(_inside(quad, other) for other in kept):
            kept.append(quad)
    return kept


def _overlap(a: CardQuad, b: CardQuad) -> float:
    """Intersection over union of two convex quadrilaterals."""
    inter, _ = cv2.intersectConvexConvex(a.corners, b.corners)
    union = a.area + b.area - inter
    return float(inter / union) if union > 0 else 0.0


def _inside(inner: CardQuad, outer: CardQuad) -> bool:
    """True when the centre of `inner` lies within `outer`."""
    centre = inner.corners.mean(axis=0)
    contour = outer.corners.reshape(-1, 1, 2)
    return cv2.pointPolygonTest(contour, (float(centre[0]), float(centre[1])), False) >= 0


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def shrunk(image: Image, max_side: int) -> tuple[Image, float]:
    """A copy no larger than `max_side`, and the factor applied."""
    longest = max(image.shape[:2])
    if longest <= max_side:
        return image, 1.0
    factor = max_side / longest
    size = (round(image.shape[1] * factor), round(image.shape[0] * factor))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8), factor
