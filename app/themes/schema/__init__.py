"""The shape of one deep-dive theme file (``app/themes/data/*.yaml``); ``theme`` defines it."""
