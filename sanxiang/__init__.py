"""sanxiang (三项制度平台): publicity, whole-process recording and legal review
of administrative law enforcement."""

__version__ = "0.1.0"
