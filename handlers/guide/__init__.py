"""The relocation guide: browsing by country, questions, inline search."""
