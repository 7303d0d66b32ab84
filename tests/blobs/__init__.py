"""Tests of the blob store on the suite's FerretDB."""
