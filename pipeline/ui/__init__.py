"""What a run shows: ``base`` (stage results and the quiet display) and ``terminal`` (the rich one)."""
