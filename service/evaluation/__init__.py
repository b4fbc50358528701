"""Quality evaluation of the aligner on labelled public corpora (MRPC, PAN 2013).

The corpora are not shipped: every entry point takes the corpus path.
"""
