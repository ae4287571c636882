"""The electronic case file (电子案卷) and its four-property check (四性检测),
by what each part is (docs/archive.md):

- ``layout``: what a package holds and how its members are named (plain Python);
- ``check``: the offline checker, plain Python over the ZIP: importable and
  runnable with no Django (``python -m sanxiang.evidence.archive PACKAGE``);
- ``build``: building a closed case's package from the database (Django);
- ``keys``: the platform's keys for a check run on the platform (Django).

The chain format the package carries (canonical JSON, entry hash,
checkpoint message) is ``core.chainformat``, its Merkle proofs
``core.merkle``, file types ``evidence.filetypes``: the same code the
platform itself uses. This package imports nothing on its own, so that
importing the checker never loads Django.
"""
