"""Reading the files users really have: encodings, title rows, header names, values with units, names, addresses."""
