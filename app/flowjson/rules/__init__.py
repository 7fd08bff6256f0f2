"""Rule families of the static validator; each module exposes `check(ctx)`."""
