"""Entry script for spark-submit: `spark-submit … training/batch/submit.py INPUT OUTPUT --engine spark …`.

spark-submit runs a file, not a console script; this one runs `legal-tagger batch` with its arguments.
"""

import sys

from training.cli import main

if __name__ == "__main__":
    main(["batch", *sys.argv[1:]])
