"""Benchmarks: a synthetic news corpus with ground truth, and the harness
(``python -m bench all --size 10k``) that measures copydesk against
datasketch on the same machine in the same run."""
