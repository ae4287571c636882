"""Standard Webhooks v1a (Ed25519) for docking messages: the one copy lives
in sanxiang/core/webhooks.py (the push API's signed pushes use it too);
this module keeps the docking app's name for it."""

from sanxiang.core.webhooks import (
    MAX_ID_LENGTH, MAX_SIGNATURES, PUBLIC_PREFIX, RETRY_SCHEDULE_SECONDS, SCHEME, SECRET_PREFIX, TOLERANCE_SECONDS,
    Headers, WebhookError, fingerprint, load_public_key, load_secret_key, message_id, new_secret_key, next_delay,
    parse_retry_after, public_key_text, read_headers, secret_key_text, sign, verify,
)

__all__ = ["MAX_ID_LENGTH", "MAX_SIGNATURES", "PUBLIC_PREFIX", "RETRY_SCHEDULE_SECONDS", "SCHEME", "SECRET_PREFIX", "TOLERANCE_SECONDS", "Headers", "WebhookError", "fingerprint", "load_public_key", "load_secret_key", "message_id", "new_secret_key", "next_delay", "parse_retry_after", "public_key_text", "read_headers", "secret_key_text", "sign", "verify"]
