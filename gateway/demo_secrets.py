"""The demo's fixed identities and secrets, apart from `gateway.demo` so that `tidegate cti` can
default to them in an installed BFF, where the simulators (which the demo launches) are absent."""

DEMO_AGENT = "A1001"
DEMO_CTI_SECRET = "demo-cti-secret"  # the demo's only; production sets TIDEGATE_CTI_SECRETS
# The demo's only; production shares one with the work-order system (TIDEGATE_WORKORDERS_WEBHOOK_SECRETS).
DEMO_WEBHOOK_SECRET = "whsec_dGlkZWdhdGUtZGVtby13ZWJob29rLXNlY3JldC0zMmI="
