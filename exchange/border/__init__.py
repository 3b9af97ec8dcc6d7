"""Border points: checks on child travellers and their companions, screening, alerts, travel notices.

- ``schema``: the check body, validated strictly (``ages``: ages from partial birth dates);
- ``flags``: the pure rules, flags -> recommendation;
- ``screening``: every person of a check against the register's index (``exchange.screening_index``);
- ``store``: the SQL of checks and alerts;
- ``api``: ``/border/checks`` (submit with idempotent replay, read, outcome, list);
- ``alerts``: ``/alerts`` for the liaison desk (list, decide, travel notice seam);
- ``points``: ``/border-points``; ``stats``: ``/border/stats``; ``purge``: retention; ``jobs``: the
  background index load/reconcile and the scheduled purge; ``config``: the module's settings.
"""
