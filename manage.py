#!/usr/bin/env python
"""Django's manage.py; the ``xietong`` console command does the same."""

from xietong.cli import main

if __name__ == "__main__":
    main()
