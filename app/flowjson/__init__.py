"""Flow JSON: loader with positions, static validator, registry and submission schemas."""
