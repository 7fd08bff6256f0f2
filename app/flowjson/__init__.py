"""Flow JSON: loader, static validator, and the registry of FlowDefinitions (model, handlers,
submission validator) that running code uses."""
