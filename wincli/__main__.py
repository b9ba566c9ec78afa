"""``python -m wincli`` = ``win``."""

from wincli.entry import main

if __name__ == "__main__":
    main()
