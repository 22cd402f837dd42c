"""Live news sources: feeds fetched politely, their items made articles, sources kept as data."""
