"""`python -m catalog.demo OUT_DIR --count N`: write a demo catalog to look at."""

from catalog.demo.writer import main

main()
