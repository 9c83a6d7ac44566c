"""The bell of desktop notifications (issue 22 point 1): the chat header's mute toggle and
the list row's "muted" mark draw the same two icons (our own stroke paths, for svg_icon)."""

ICON_BELL = "M6 16v-5a6 6 0 0 1 12 0v5l2 2H4l2-2M10 21h4"
ICON_BELL_OFF = ICON_BELL + "M3 3l18 18"
