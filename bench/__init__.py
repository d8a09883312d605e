"""Benchmarks of the HPC MLOps monitor: ``make bench`` (``python -m bench``).

Every figure is measured against a baseline taken in the same run, so the numbers are ratios that survive a change
of machine. Results go to ``bench/results.json``.
"""
