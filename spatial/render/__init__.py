"""What a reader sees: the map preview, the static map, the printable report, thumbnails."""
