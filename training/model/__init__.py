"""The model as data: a numpy-only scorer, its file format (format 2), migration and bundles.

Training fits a scikit-learn Pipeline; `export.pipeline_arrays` turns what it learned into plain
arrays and JSON; `scorer.LeanScorer` scores from those with numpy alone, so serving never imports
scikit-learn or scipy and a model file never holds code.
"""

FORMAT = 2
