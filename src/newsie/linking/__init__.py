"""The same occurrence across articles: agreement vetoes, organizations and their families,
linking with Splink, and the timeline per organization. Private."""
