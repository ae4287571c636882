"""Settings for sanxiang, driven by environment variables.

The embedded default (no variable set) is SQLite in WAL mode plus local files
under ./sanxiang-data. Switching to PostgreSQL is `DATABASE_URL=postgres://...`;
never a code fork (design.md, MUST).

Variables:
  SANXIANG_ENV            "development" (default) or "production"
  SANXIANG_DATA_DIR       where the SQLite file and stored files live
  DATABASE_URL            any dj-database-url URL; default: SQLite in the data dir
  SANXIANG_SECRET_KEY     required in production; elsewhere, when unset, a random key is
                          made on first start and kept in <data dir>/secret_key (0600)
  SANXIANG_DEBUG          "1" to show debug pages (development only)
  SANXIANG_ALLOWED_HOSTS  comma-separated host names
  SANXIANG_REQUIRE_TOTP   "0" relaxes TOTP for legal-office and admin roles (demo)
  SANXIANG_AUDIT_CHECKPOINT_INTERVAL  entries between Merkle checkpoints
  SANXIANG_AXES_FAILURE_LIMIT         failed logins of one account from one address before the pair locks
  (more login, session and header variables below, and in README.md)
"""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


ENVIRONMENT = os.environ.get("SANXIANG_ENV", "development").strip().lower()
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"SANXIANG_ENV must be 'development' or 'production', not {ENVIRONMENT!r}"
    )
PRODUCTION = ENVIRONMENT == "production"

DATA_DIR = Path(os.environ.get("SANXIANG_DATA_DIR", "sanxiang-data")).resolve()

# The key this code once shipped as a default: published, so refused everywhere.
DEFAULT_SECRET_KEY = "sanxiang-insecure-default-key-for-the-embedded-demo-only"
SECRET_KEY = os.environ.get("SANXIANG_SECRET_KEY", "").strip()
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SANXIANG_ENV=production refuses to start with the default or a short "
        "secret key: set SANXIANG_SECRET_KEY to at least 32 random characters."
    )
if SECRET_KEY == DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured("SANXIANG_SECRET_KEY is the key published in the source code: unset it "
                               "(a random one is kept in the data directory) or set a random one.")
if not SECRET_KEY:
    # Development and the demo: a random key made on first start and kept in
    # the data directory (mode 0600), the same for every later start.
    from sanxiang.secret_key import SecretKeyFileError, data_dir_secret_key

    try:
        SECRET_KEY = data_dir_secret_key(DATA_DIR)
    except SecretKeyFileError as exc:
        raise ImproperlyConfigured(str(exc)) from None

DEBUG = env_bool("SANXIANG_DEBUG", False) and not PRODUCTION
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("SANXIANG_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "ninja",  # the API docs page from installed static files, not a CDN (CSP, intranet)
    "sanxiang.core",
    "sanxiang.api",
    "sanxiang.publicity",
    "sanxiang.catalog",
    "sanxiang.cases",
    "sanxiang.documents",
    "sanxiang.evidence",
    "sanxiang.review",
    "sanxiang.inspections",
    "sanxiang.docking",
    "sanxiang.statistics",
    "sanxiang.supervision",
    "sanxiang.evaluation",
    "sanxiang.measures",
]

MIDDLEWARE = [
    "sanxiang.core.metrics.RequestMetricsMiddleware",  # outermost of all: latency by route, status classes (/metrics)
    "sanxiang.core.http.HeadWithoutBodyMiddleware",  # outermost: a HEAD answer never carries a body
    "django.middleware.security.SecurityMiddleware",
    "sanxiang.core.security.SecurityHeadersMiddleware",  # CSP, Permissions-Policy (issue 9)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "sanxiang.core.security.SessionIdleMiddleware",  # sessions end after SESSION_COOKIE_AGE idle
    "sanxiang.core.security_log.SecurityLogMiddleware",  # refused attempts → security log (issue 9)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "sanxiang.core.forms.FormTextMiddleware",  # posted text through core.text; control characters refused (issue 9)
    "sanxiang.core.http.BadInputMiddleware",  # parsing.BadInput from a view: 400, Chinese message
]

ROOT_URLCONF = "sanxiang.urls"
WSGI_APPLICATION = "sanxiang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "sanxiang.core.context_processors.navigation",
            ],
        },
    }
]

_sqlite_default = f"sqlite:///{DATA_DIR / 'sanxiang.sqlite3'}"
# Each thread of the server keeps its database connection between requests
# for SANXIANG_DB_CONN_MAX_AGE seconds (default 300; 0 = a new connection per
# request), checked before reuse (CONN_HEALTH_CHECKS). Opening one costs more
# than a portal page's queries: SQLite parses the whole schema (~7 ms for
# its ~80 tables and ~190 indexes), PostgreSQL starts a backend process
# (docs/performance.md).
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _sqlite_default),
                                              conn_max_age=int(os.environ.get("SANXIANG_DB_CONN_MAX_AGE", "300")),
                                              conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the public portal read while a writer writes; IMMEDIATE
    # transactions take the write lock up front so two writers queue instead
    # of failing on lock upgrade (and cannot fork the audit chain).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-sanxiang.sqlite3")} if env_bool(
        "SANXIANG_TEST_SQLITE_FILE", False
    ) else {}

# Read replicas for the public portal (sanxiang/core/db_router.py, docs/scaling.md).
#   SANXIANG_REPLICA_URLS             comma-separated database URLs of PostgreSQL read replicas of the
#                                     default database: aliases replica1..N; anonymous public reads use them
#   SANXIANG_REPLICA_RETRY_SECONDS    a replica that failed is skipped this long (30)
#   SANXIANG_REPLICA_CONNECT_TIMEOUT  seconds to wait for a replica's connection (3)
from sanxiang.core.db_router import ROUTER as _REPLICA_ROUTER, replica_databases  # noqa: E402

_replicas = replica_databases(os.environ.get("SANXIANG_REPLICA_URLS", ""), default=DATABASES["default"],
                              connect_timeout=int(os.environ.get("SANXIANG_REPLICA_CONNECT_TIMEOUT", "3")))
DATABASES.update(_replicas)
DATABASE_REPLICAS = list(_replicas)
DATABASE_ROUTERS = [_REPLICA_ROUTER] if DATABASE_REPLICAS else []
REPLICA_RETRY_SECONDS = int(os.environ.get("SANXIANG_REPLICA_RETRY_SECONDS", "30"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Applied by every service that sets a password (core.services.create_user,
# change_password), so also by `sanxiang createuser` and the password page.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("username", "display_name", "email", "first_name", "last_name")}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:workbench"
LOGOUT_REDIRECT_URL = "home"

# django-axes (sanxiang/core/lockout.py, docs/security.md): failed logins
# in the last 30 minutes are counted per (account, IP) pair, per IP and per
# account, each with its own limit; the pair trips first, so an attacker's
# address is locked long before the account it guesses at, and the account
# lock never applies from an address the account logged in from within
# LOGIN_KNOWN_IP_DAYS. `sanxiang unlock` or the back office lifts a lock.
LOGIN_FAILURE_LIMITS = {
    "pair": int(os.environ.get("SANXIANG_AXES_FAILURE_LIMIT", "5")),
    "ip": int(os.environ.get("SANXIANG_LOGIN_IP_FAILURE_LIMIT", "20")),
    "account": int(os.environ.get("SANXIANG_LOGIN_ACCOUNT_FAILURE_LIMIT", "30")),
}
LOGIN_KNOWN_IP_DAYS = int(os.environ.get("SANXIANG_LOGIN_KNOWN_IP_DAYS", "30"))
AXES_HANDLER = "sanxiang.core.lockout.LoginLockHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]  # order of lockout.COUNTERS
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMITS["pair"]
AXES_COOLOFF_TIME = float(os.environ.get("SANXIANG_LOGIN_LOCK_MINUTES", "30")) / 60  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "sanxiang.core.views.lockout"
AXES_CLIENT_IP_CALLABLE = "sanxiang.core.lockout.client_ip"
AXES_VERBOSE = False
# Reverse proxies in front of the app whose X-Forwarded-For is trusted (0:
# none, the client is REMOTE_ADDR). Wrong here, every login shares the
# proxy's address and the IP lock would lock everyone.
TRUSTED_PROXY_COUNT = int(os.environ.get("SANXIANG_TRUSTED_PROXY_COUNT", "0"))
# Complaints about enforcement (投诉举报, docs/supervision.md) are filed
# without login or captcha: at most this many from one address (as above,
# behind the trusted proxies) per window; 0 turns the limit off.
COMPLAINT_RATE_LIMIT = int(os.environ.get("SANXIANG_COMPLAINT_RATE_LIMIT", "5"))
COMPLAINT_RATE_WINDOW_MINUTES = int(os.environ.get("SANXIANG_COMPLAINT_RATE_WINDOW_MINUTES", "60"))

# E-mail (alerts to the responsible person, docs/supervision.md): sent only
# when configured. SANXIANG_EMAIL_HOST set: SMTP through it; or any Django
# backend named in SANXIANG_EMAIL_BACKEND; neither: the dummy backend (nothing sent).
EMAIL_HOST = os.environ.get("SANXIANG_EMAIL_HOST", "").strip()
EMAIL_PORT = int(os.environ.get("SANXIANG_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("SANXIANG_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("SANXIANG_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("SANXIANG_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.environ.get("SANXIANG_EMAIL_FROM", "sanxiang@localhost").strip()
EMAIL_BACKEND = (os.environ.get("SANXIANG_EMAIL_BACKEND", "").strip()
                 or ("django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                     else "django.core.mail.backends.dummy.EmailBackend"))

# TOTP for legal-office and administrator roles; the demo relaxes it.
REQUIRE_TOTP = env_bool("SANXIANG_REQUIRE_TOTP", True)
OTP_TOTP_ISSUER = "三项制度平台"

# Scheduled jobs (sanxiang/core/jobs.py) run under a lock row with this
# lease, extended every third of it while a job runs: a runner that dies
# holding a job blocks it for at most this long.
JOB_LEASE_SECONDS = int(os.environ.get("SANXIANG_JOB_LEASE_SECONDS", "300"))
# Seconds between runs of each scheduled job, offered every minute by the
# job queue's consumers; 0 = never by itself (`sanxiang jobs run` instead).
JOBS_INTERVAL = int(os.environ.get("SANXIANG_JOBS_INTERVAL", "600"))

# The job queue (sanxiang/core/queue.py, docs/queue.md): Huey on a SQLite
# file in the data directory (consumed by threads of `sanxiang serve`), or
# redis://HOST:PORT/DB in production (consumed by `sanxiang worker`).
# SANXIANG_QUEUE_NAME namespaces it (two instances on one Redis). A task that
# raises is retried QUEUE_RETRIES times, waiting QUEUE_RETRY_DELAY seconds
# and twice as long before each next attempt.
QUEUE_URL = os.environ.get("SANXIANG_QUEUE_URL", "").strip() or f"sqlite:///{DATA_DIR / 'queue.sqlite3'}"
QUEUE_NAME = os.environ.get("SANXIANG_QUEUE_NAME", "").strip() or "sanxiang"
QUEUE_RETRIES = int(os.environ.get("SANXIANG_QUEUE_RETRIES", "5"))
QUEUE_RETRY_DELAY = int(os.environ.get("SANXIANG_QUEUE_RETRY_DELAY", "30"))
# A consumer's heartbeat lasts this long: the tasks a killed consumer had
# taken go back to the queue within about this time (docs/queue.md).
QUEUE_LEASE_SECONDS = float(os.environ.get("SANXIANG_QUEUE_LEASE_SECONDS", "30"))

AUDIT_CHECKPOINT_INTERVAL = int(os.environ.get("SANXIANG_AUDIT_CHECKPOINT_INTERVAL", "256"))
# Key for the HMAC that signs Merkle checkpoints. Keep it apart from
# SECRET_KEY in production so rotating the session key never breaks old
# signatures.
AUDIT_SIGNING_KEY = os.environ.get("SANXIANG_AUDIT_KEY", SECRET_KEY)
# The Ed25519 key that also signs every checkpoint, verifiable by anyone with
# its public key (`sanxiang audit public-key`); made on first use. Back it up
# with the database. Public keys (hex) of keys it replaced, still accepted:
AUDIT_ED25519_KEY_FILE = os.environ.get("SANXIANG_AUDIT_ED25519_KEY_FILE", "")
AUDIT_ED25519_PREVIOUS_KEYS = [k for k in os.environ.get("SANXIANG_AUDIT_ED25519_PREVIOUS_KEYS", "").split(",") if k.strip()]
# Docking (docs/docking.md): this instance's signing key (made on first use)
# and, during a key rotation, the previous one (messages carry both signatures).
DOCKING_ED25519_KEY_FILE = os.environ.get("SANXIANG_DOCKING_KEY_FILE", "")
DOCKING_PREVIOUS_KEY_FILE = os.environ.get("SANXIANG_DOCKING_PREVIOUS_KEY_FILE", "")

# The interface is Chinese whatever the browser asks for (no LocaleMiddleware):
# an officer's phone set to English still gets the official wording.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"  # decisions carry China Standard Time dates
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(DATA_DIR / "files")}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Evidence store (sanxiang/evidence, docs/evidence.md): content-addressed by
# SHA-256, in a local directory (default) or S3-compatible object storage.
#   SANXIANG_EVIDENCE_BACKEND   "local" (default) or "s3"
#   SANXIANG_S3_ENDPOINT, SANXIANG_S3_BUCKET, SANXIANG_S3_ACCESS_KEY,
#   SANXIANG_S3_SECRET_KEY, SANXIANG_S3_REGION, SANXIANG_S3_PREFIX
#   SANXIANG_EVIDENCE_MAX_SIZE          largest upload in bytes (default 20 GiB)
#   SANXIANG_UPLOAD_EXPIRY_HOURS        unfinished uploads expire after this idle time (24)
#   SANXIANG_UPLOAD_COMPLETION_CHECK_SECONDS  the queued check that an upload whose last bytes
#                                       arrived was completed runs this long after them (60)
#   SANXIANG_EVIDENCE_RECOVERY_DAYS     soft-deleted evidence can be restored this long (30)
#   SANXIANG_FIXITY_BYTES_PER_RUN       bytes the fixity job re-hashes per run (0 = all due)
#   SANXIANG_FIXITY_INTERVAL_DAYS       each object is re-hashed at least this often (7)
#   SANXIANG_EVIDENCE_SHARE_MAX_DAYS    longest validity of a shared evidence link (90)
EVIDENCE_BACKEND = os.environ.get("SANXIANG_EVIDENCE_BACKEND", "local").strip().lower()
if EVIDENCE_BACKEND not in {"local", "s3"}:
    raise ImproperlyConfigured(f"SANXIANG_EVIDENCE_BACKEND must be 'local' or 's3', not {EVIDENCE_BACKEND!r}")
EVIDENCE_DIR = DATA_DIR / "evidence"
EVIDENCE_UPLOAD_DIR = DATA_DIR / "uploads"
EVIDENCE_S3 = {
    "endpoint_url": os.environ.get("SANXIANG_S3_ENDPOINT", ""),
    "bucket": os.environ.get("SANXIANG_S3_BUCKET", "sanxiang-evidence"),
    "access_key": os.environ.get("SANXIANG_S3_ACCESS_KEY", ""),
    "secret_key": os.environ.get("SANXIANG_S3_SECRET_KEY", ""),
    "region": os.environ.get("SANXIANG_S3_REGION", "us-east-1"),
    "prefix": os.environ.get("SANXIANG_S3_PREFIX", "evidence/"),
}
EVIDENCE_MAX_SIZE = int(os.environ.get("SANXIANG_EVIDENCE_MAX_SIZE", str(20 * 1024**3)))
EVIDENCE_UPLOAD_EXPIRY_HOURS = int(os.environ.get("SANXIANG_UPLOAD_EXPIRY_HOURS", "24"))
# Large upload bodies written to disk without the page cache (O_DIRECT, on
# Linux where the filesystem takes it; docs/evidence.md). "0" turns it off.
EVIDENCE_UPLOAD_DIRECT_IO = os.environ.get("SANXIANG_UPLOAD_DIRECT_IO", "1") != "0"
# Seconds after an upload's last bytes arrive at which a queued task makes
# sure it was completed (the serving process may have died in between).
EVIDENCE_UPLOAD_COMPLETION_CHECK = int(os.environ.get("SANXIANG_UPLOAD_COMPLETION_CHECK_SECONDS", "60"))
EVIDENCE_RECOVERY_DAYS = int(os.environ.get("SANXIANG_EVIDENCE_RECOVERY_DAYS", "30"))
EVIDENCE_FIXITY_BYTES_PER_RUN = int(os.environ.get("SANXIANG_FIXITY_BYTES_PER_RUN", "0"))
EVIDENCE_FIXITY_INTERVAL_DAYS = int(os.environ.get("SANXIANG_FIXITY_INTERVAL_DAYS", "7"))
# The longest a shared evidence link may live after its approval (platform
# policy, not a legal time limit): checked when the link is made and when used.
EVIDENCE_SHARE_MAX_DAYS = int(os.environ.get("SANXIANG_EVIDENCE_SHARE_MAX_DAYS", "90"))

# Sessions and response headers (sanxiang/core/security.py, docs/security.md).
#   SANXIANG_SESSION_IDLE_HOURS   a signed-in session ends after this long idle (8: a working day)
#   SANXIANG_HSTS_SECONDS         HSTS max-age in production (one year)
#   SANXIANG_SSL_REDIRECT         "0" if TLS ends in front of the app and plain HTTP never reaches users
SESSION_COOKIE_AGE = int(float(os.environ.get("SANXIANG_SESSION_IDLE_HOURS", "8")) * 3600)
SESSION_REFRESH_SECONDS = min(300, SESSION_COOKIE_AGE // 10)  # expiry pushed forward at most this often
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = int(os.environ.get("SANXIANG_HSTS_SECONDS", "31536000")) if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_SSL_REDIRECT = env_bool("SANXIANG_SSL_REDIRECT", PRODUCTION)
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# No inline script anywhere (a test reads every template); inline styles are
# allowed. Off only with DEBUG, whose error pages use inline script.
CONTENT_SECURITY_POLICY = "" if DEBUG else (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
                      "payment=(), usb=()")

# The address the platform is reached at from outside (https://…), for links
# printed where no request tells it (certificate verification QR codes);
# empty: the request's own host.
PUBLIC_BASE_URL = os.environ.get("SANXIANG_PUBLIC_BASE_URL", "").strip()

# Documents (sanxiang/documents, docs/documents.md): the platform-wide number
# pattern (文号) where an agency set none (empty: the built-in default), and
# where the subset Chinese font is cached (empty: DATA_DIR/cache/fonts).
DOCUMENT_NUMBER_PATTERN = os.environ.get("SANXIANG_DOCUMENT_NUMBER_PATTERN", "")
DOCUMENT_FONT_CACHE_DIR = os.environ.get("SANXIANG_FONT_CACHE_DIR", "")
# The serif CJK font file the PDFs are set in (core/fonts.py): empty detects
# an installed one (Debian fonts-noto-cjk: Noto Serif CJK SC), "packaged"
# forces the packaged Noto Sans CJK SC, which is also the fallback.
DOCUMENT_PDF_FONT = os.environ.get("SANXIANG_DOCUMENT_PDF_FONT", "").strip()

# E-case file packages (docs/archive.md); empty: DATA_DIR/archives.
ARCHIVE_DIR = os.environ.get("SANXIANG_ARCHIVE_DIR", "")

# Publicity: the name-masking rule of the redactor where an agency chose
# none (a name in publicity.redaction.RULES; empty: its default).
SANXIANG_REDACTION_NAME_RULE = os.environ.get("SANXIANG_REDACTION_NAME_RULE", "")

# Legal review: working days before the review deadline when the reminder is
# made (an operational setting, not a legal limit).
REVIEW_REMINDER_DAYS = int(os.environ.get("SANXIANG_REVIEW_REMINDER_DAYS", "2"))

# Health and metrics (sanxiang/core/health.py, sanxiang/core/metrics.py, docs/deploy.md).
#   SANXIANG_METRICS_NETWORKS  comma-separated networks (CIDR) allowed to read /metrics; anyone else
#                              gets 404 (default: this machine only). The client address is the one
#                              SANXIANG_TRUSTED_PROXY_COUNT makes of X-Forwarded-For.
#   SANXIANG_METRICS_DIR       where every web process of this data directory keeps its request
#                              counters (prometheus-client multiprocess files); default <data dir>/metrics
def _metrics_networks(text: str) -> list:
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"SANXIANG_METRICS_NETWORKS: {item!r} is not a network such as 10.1.0.0/16 "
                                       f"or an address such as 10.1.2.3") from None
    return networks


METRICS_NETWORKS = _metrics_networks(os.environ.get("SANXIANG_METRICS_NETWORKS", "127.0.0.1/32,::1/128"))
METRICS_DIR = Path(os.environ.get("SANXIANG_METRICS_DIR", "") or DATA_DIR / "metrics").resolve()
# prometheus-client chooses its multiprocess storage when it is first imported,
# from this variable; settings load before any app, so every process of the
# platform (each gunicorn worker, waitress, the tests) counts into METRICS_DIR
# and /metrics sums them. Assigned, not defaulted: a child process started with
# another data directory must not inherit its parent's.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)
# The probes answer over plain HTTP on the loopback address too (a monitor on
# the machine itself), even where every other path is redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

