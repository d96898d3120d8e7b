"""Tag whole archives: `legal-tagger batch INPUT OUTPUT` with a local process pool or Spark.

Layout: `records` does the per-record work (parse, check, split, tag) that both engines share;
`readers` and `output` move records in and out; `local` and `spark` are the engines; `model`
is the one place that loads a model for a worker process.
"""
