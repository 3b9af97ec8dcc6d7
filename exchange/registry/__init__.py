"""The register of convicted offenders: ``/api/v1/records``.

- ``api``: the HTTP handlers (create, read, replace, withdraw, history, list) and their policies;
- ``params``: path id, ``If-Match``, query parameters and the opaque list cursor, parsed strictly;
- ``storable``: the last checks before a cleaned record meets the database's own CHECKs;
- ``store``: the SQL (one version = one ``record_versions`` row plus its names, documents, convictions);
- ``shape``: rows back into the canonical JSON that went in;
- ``idempotency``: ``Idempotency-Key`` on ``POST /records``;
- ``openapi``: the OpenAPI description of these routes.

Every handler that reads or writes personal data writes its audit row last, in the same transaction.
"""
