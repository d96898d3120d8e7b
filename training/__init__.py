"""Training side of legal-news-tagger: labeled CSV in, versioned model artifact out."""

__version__ = "0.1.0"
