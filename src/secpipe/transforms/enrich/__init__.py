"""Enrichment transforms: threat intelligence (``threat_intel``), GeoIP/ASN (``geoip``), lookup tables (``lookup``).

Each is a vectorized :class:`~secpipe.transforms.base.Stage`; their options models live in
:mod:`.options` and are registered in ``secpipe.config.models.COMPONENTS``; their factories
are registered lazily in ``secpipe.transforms.base.STAGES``.
"""
