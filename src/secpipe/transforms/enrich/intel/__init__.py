"""Threat intelligence: feed loaders (:mod:`.loaders`), lifecycle (:mod:`.feeds`), compiled index (:mod:`.matcher`) and the ``threat_intel`` stage (:mod:`.stage`)."""
