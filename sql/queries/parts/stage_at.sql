{{/* A client's lifecycle stage at {at} (SPEC §3), from the columns of clients_at: its
purchases up to {at}, the seconds of the last one and of the one before it (last_at,
previous_at) and its activity window (window_seconds). Used by lifecycle_counts and
lifecycle_stage. */ -}}
multiIf(
    purchases = 0, 'potential',
    last_at < {at:DateTime} - window_seconds, 'former',
    purchases = 1, 'one_time',
    last_at - previous_at > window_seconds, 'returning',
    'regular')
