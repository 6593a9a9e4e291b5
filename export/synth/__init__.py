"""Synthetic Mongolian plates: random text, glyphs, plate layouts, degradations, scenes."""
