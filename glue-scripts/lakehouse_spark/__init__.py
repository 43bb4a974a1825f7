"""Shared library of the lakehouse Spark jobs (shipped to Glue / EMR Serverless as a zip via --extra-py-files)."""
