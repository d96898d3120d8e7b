"""Whole newspaper pages: the pattern table, the article splitter and the entity finder."""
