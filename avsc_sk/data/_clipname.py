"""The one place that knows the scene list and how TAU clip names are built."""

import re


from ..errors import DataError

__all__ = ["SCENES", "ClipName", "parse_stem", "stem_of", "label_index", "scene_of_index"]

#: The ten scenes, in the dataset's (alphabetical) label order; label index i is ``SCENES[i]``.
SCENES = (
    "airport",
    "bus",
    "metro",
    "metro_station",
    "park",
    "public_square",
    "shopping_mall",
    "street_pedestrian",
    "street_traffic",
    "tram",
)

_STEM = re.compile(r"^(?P<scene>[a-z_]+)-(?P<city>[a-z]+)-(?P<location>[0-9A-Za-z]+)-(?P<segment>[0-9A-Za-z]+)$")


class ClipName(tuple):
    """``(scene, city, location, segment)`` parsed from a stem such as ``bus-lyon-1100-40123``.

    ``identifier`` is ``city-location``, the recording location that cross-validation groups by.
    """

    __slots__ = ()

    def __new__(cls, scene, city, location, segment):
        return super().__new__(cls, (scene, city, location, segment))

    scene = property(lambda self: self[0])
    city = property(lambda self: self[1])
    location = property(lambda self: self[2])
    segment = property(lambda self: self[3])
    identifier = property(lambda self: f"{self[1]}-{self[2]}")


def stem_of(name):
    """Return the clip stem of a file name or key: ``audio/bus-lyon-1-2.wav`` -> ``bus-lyon-1-2``."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    for ext in (".wav", ".mp4", ".npy", ".flac"):
        if base.endswith(ext):
            return base[: -len(ext)]
    return base


def parse_stem(stem, *, source=None):
    """Parse a clip stem ``<scene>-<city>-<location>-<segment>``.

    Parameters
    ----------
    stem : str
        A clip stem, or a file name or key ending in one.
    source : str, optional
        The file the stem came from, named in the error message.

    Returns
    -------
    ClipName

    Raises
    ------
    DataError
        If the stem does not follow the TAU naming scheme or names an unknown scene.
    """
    stem = stem_of(stem)
    match = _STEM.match(stem)
    where = f" in {source}" if source else ""
    if match is None:
        raise DataError(
            f"clip name {stem!r}{where} does not parse as <scene>-<city>-<location>-<segment>; "
            "rename the clip as in TAU Urban Audio-Visual Scenes 2021 (e.g. bus-lyon-1100-40123)"
        )
    if match["scene"] not in SCENES:
        raise DataError(
            f"clip {stem!r}{where} names unknown scene {match['scene']!r}; expected one of {', '.join(SCENES)}"
        )
    return ClipName(match["scene"], match["city"], match["location"], match["segment"])


def label_index(label, *, source=None):
    """Return the label index of a scene name, with a clear error for an unknown one."""
    try:
        return SCENES.index(str(label))
    except ValueError:
        where = f" in {source}" if source else ""
        raise DataError(
            f"unknown scene label {label!r}{where}; expected one of {', '.join(SCENES)}"
        ) from None


def scene_of_index(index, *, source=None):
    """Return the scene named by a label index (an int or a digit string such as an HDF5 key)."""
    where = f" in {source}" if source else ""
    try:
        i = int(index)
    except (TypeError, ValueError):
        raise DataError(f"label index {index!r}{where} is not an integer; keys must start with 0..9") from None
    if not 0 <= i < len(SCENES):
        raise DataError(
            f"label index {i}{where} is out of range; expected 0..{len(SCENES) - 1} ({SCENES[0]}..{SCENES[-1]})"
        )
    return SCENES[i]

