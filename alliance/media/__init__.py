"""Media: uploaded images (type by magic bytes, size limit), stored through the Storage port."""
