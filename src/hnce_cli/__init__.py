"""hnce: administer Henan's continuing-education platform for accounting professionals."""

__version__ = "0.1.0"
