"""The seqapps applications, one package per shape of sequence task."""
