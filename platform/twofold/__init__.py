"""Twofold CRM core: tenancy, auth and the generic engines that packs plug into."""

__version__ = "0.1.0"
