"""Layer versions: kinds, validation, the store, import, rasters, the indexed layer set, access lists."""
