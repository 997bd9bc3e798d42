"""Importers and exporters: plain records in and out, streaming; no click here."""
