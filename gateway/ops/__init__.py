"""For operators and moderators: live metrics (``metrics``), the HTTP listener for ``/metrics``,
``/healthz`` and ``/readyz`` (``health``), figures read from event-log rows (``insight``), the HTML case
report (``report``) and the weekly digest's text (``digest_text``).

May import: the core's vocabulary (events, actions, the case steps), ``gateway.policy``'s words for
moderators, and rows the store gives it; never the engine or its internal state.
"""
