"""链图 ChainAtlas — industrial-chain precision investment attraction (产业链精准招商)."""

__version__ = "0.1.0"
