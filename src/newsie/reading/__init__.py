"""From an input to an `Article`: files, streams, encodings, HTML and feeds, publication
dates, sentences, spaCy and dates. Private: use the names `newsie` exports."""
