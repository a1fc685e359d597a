"""Pure-Python helpers shared by the Django apps and the comparison engine.

Nothing in this package imports Django: ID numbers, credit codes, names and field crypto must work the
same in the web app, in management commands and in the standalone comparison engine.
"""
