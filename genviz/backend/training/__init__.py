"""Training recipes that reproduce every bundled checkpoint (``genviz train NAME``)."""
