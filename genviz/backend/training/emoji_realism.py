"""Recipe for the bundled ``emoji-realism`` judge (``genviz train emoji-realism``): see
``genviz.backend.training.emoji_classifier`` (one recipe, two judges)."""
from __future__ import annotations

from .emoji_classifier import main as _main


def main(argv=None):
    """Train ``emoji-realism`` (real emoji art vs crude colour stroke drawings)."""
    _main(argv, realism=True)


if __name__ == "__main__":
    main()
