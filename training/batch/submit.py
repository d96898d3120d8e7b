"""Entry script for spark-submit: `spark-submit … training/batch/submit.py INPUT OUTPUT --engine spark …`.

spark-submit runs a file, not a console script; this one runs `legal-tagger batch` with its arguments.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, this folder heads sys.path: drop it so records.py, spark.py… never shadow other modules.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != here]
    from training.cli import main

    main(["batch", *sys.argv[1:]])
