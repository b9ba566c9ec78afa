"""``python -m wincli`` = ``win``."""

from wincli.cli import main

if __name__ == "__main__":
    main()
