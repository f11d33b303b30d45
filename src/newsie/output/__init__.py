"""Results out: JSONL/CSV/DataFrame export, the HTML report, and scoring against gold.

Private: use the names `newsie` exports."""
