"""Files from PhotoPicker and DocumentPicker: extraction at intake, the worker's download,
verify and decrypt pipeline, storage, signed links and retention (docs/media.md)."""
