"""Claim matching: "has this been checked before?".

``clean`` turns free text (a sentence, a tweet, a paragraph, in any script) into search terms;
``lexical`` ranks recorded claims with the full-text index (always available); ``semantic``
ranks them by multilingual sentence embeddings stored in the database (the optional ``match``
extra), whose models ``embedding`` loads (``minilm`` runs one, ``language`` tells a query's
language, ``pinned`` checks model files); ``service`` fuses the layers and describes each
match (status, verdicts). Nothing outside this package imports the embedding models.
"""
