"""Moved: reading a reply in the context of the question just asked lives in
``dialogs.understanding.context`` (all text reading in one place). This module only keeps
the old import path working."""
from dialogs.understanding.context import (  # noqa: F401
    POLARITIES,
    core,
    find_email,
    find_name,
    find_phone,
    find_time,
    looks_like_a_name,
    polarity,
    strip_asides,
)
