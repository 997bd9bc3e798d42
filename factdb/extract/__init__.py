"""Attribution extraction: a news article in, its attributed statements out.

The package needs spaCy and an English pipeline (the optional ``extract`` extra); nothing else
in factdb imports it. It knows nothing of the database: callers pass the names (and aliases)
they know, and get back proposals to review (:func:`factdb.extract.pipeline.extract_article`).
"""
