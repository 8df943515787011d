"""Text and tagging helpers the sentiment and NER applications share.

`words`: the in-model tokenizer (`standardize`), vocabularies and word vectors (imports
Keras); `tagging`: entity tag schemes, spans and scores; `tables`: reading texts and
tables given on the command line and writing prediction records (numpy-free).
"""
