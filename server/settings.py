"""Settings, read from the environment.

With nothing set the project runs "embedded": SQLite, the in-memory channel
layer, eager Celery, files on local disk, console e-mail and push to the log.
Each environment variable below switches one part to the real thing; the
settings table in README.md lists them all.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRET_KEY = "insecure-development-key-never-use-in-production"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=PLACEHOLDER_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

if not DEBUG:
    # Production refuses to start on development defaults (Takahe does the same).
    if SECRET_KEY == PLACEHOLDER_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("Set SECRET_KEY to a random value of at least 50 characters when DEBUG is off.")
    if not env.list("ALLOWED_HOSTS", default=[]):
        raise ImproperlyConfigured("Set ALLOWED_HOSTS when DEBUG is off.")

INSTALLED_APPS = [
    "server.admin_site.OrganizationAdminConfig",  # the organisation-scoped admin site (server/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "server.apps.ServerConfig",
    "accounts.apps.AccountsConfig",
    "notifications.apps.NotificationsConfig",
    "media.apps.MediaConfig",
    "feed.apps.FeedConfig",
    "recognition.apps.RecognitionConfig",
    "voice.apps.VoiceConfig",
    "moderation.apps.ModerationConfig",
    "console.apps.ConsoleConfig",
]

MIDDLEWARE = [
    "server.obs.middleware.RequestContextMiddleware",  # X-Request-ID, HTTP metrics (server/obs)
    "server.api.timing.ServerTimingMiddleware",
    "server.db_router.ReplicaReadMiddleware",  # replica reads, read-your-writes; inert without replicas
    "server.api.middleware.ApiJsonErrorsMiddleware",  # no HTML error page under /api/, DEBUG or not
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "server.api.middleware.AdminSessionMiddleware",  # SessionMiddleware, not on /api/ (server/api/middleware.py)
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # stays: check --deploy wants it by name; exempt views cost ~nothing
    "server.api.middleware.AdminAuthenticationMiddleware",  # AuthenticationMiddleware, not on /api/ (server/api/middleware.py)
    "server.admin_language.AdminLanguageMiddleware",  # the admin in the person's saved language
    "server.api.middleware.AdminMessageMiddleware",  # MessageMiddleware, not on /api/ (server/api/middleware.py)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "server.api.idempotency.IdempotencyMiddleware",
    "moderation.middleware.AuditClientIPMiddleware",  # the client address for audit entries
]

ROOT_URLCONF = "server.urls"
ASGI_APPLICATION = "server.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Before the apps' templates: server/templates/admin/base_site.html extends Django's own.
        "DIRS": [BASE_DIR / "server" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (threads in the embedded server) wait instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
if IS_POSTGRES:
    # A database that is down (restart, fail-over) must not hold a request past 2 s: an unanswered
    # connect gives up after this, and the request answers 503 with Retry-After (issue #25).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT_SECONDS", default=2))
# A connection pool per process (psycopg_pool, Django's "pool" option) for the ASGI server: each
# request runs in a thread of its own there, so CONN_MAX_AGE leaks one connection per thread and
# CONN_MAX_AGE=0 pays a new PostgreSQL connection per request. 0 = no pool (tests, workers).
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=0)
if IS_POSTGRES and DATABASE_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django refuses both
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, DATABASE_POOL_MAX_SIZE),
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=5.0),
    }

# Hot statements (token authentication, /me, the unread count, the feed) run as prepared
# statements on PostgreSQL, planned once per connection (server/db.py hot_cursor); every other
# statement keeps Django's client-side binding. Off for a pooler in transaction mode that cannot
# keep prepared statements (PgBouncer before 1.21 without max_prepared_statements).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
if IS_POSTGRES and DATABASE_PREPARED_STATEMENTS:
    # psycopg only prepares when the connection allows it (Django sets None, "never"); the
    # statements that ask for it are the hot_cursor ones, Django's own cursors never do.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5

# Read replicas (server/db_router.py, docs/scaling.md): comma-separated URLs; empty, no replica and
# every read on the primary. The feed, search and the console read a replica, except for a person
# who wrote in the last READ_YOUR_WRITES_SECONDS (their own post must show at once).
DATABASE_REPLICAS: list[str] = []
for _number, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    _alias = "replica" if _number == 1 else f"replica{_number}"
    DATABASES[_alias] = env.db_url_config(_url)
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "OPTIONS"):
        DATABASES[_alias][_key] = DATABASES["default"][_key] if _key != "OPTIONS" else dict(DATABASES["default"].get("OPTIONS", {}))
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}  # tests never read a second database by accident
    DATABASE_REPLICAS.append(_alias)
DATABASE_ROUTERS = ["server.db_router.ReplicaRouter"]
DATABASE_REPLICA_PATHS = env.list("DATABASE_REPLICA_PATHS", default=["/api/v1/feed", "/api/v1/search", "/console/"])
READ_YOUR_WRITES_SECONDS = env.int("READ_YOUR_WRITES_SECONDS", default=10)

# Worker threads per ASGI process for HTTP requests (server/http.py): requests in flight per
# process; more wait on the event loop. Keep DATABASE_POOL_MAX_SIZE at least this large.
HTTP_THREADS = env.int("HTTP_THREADS", default=8)

# --- Redis: channel layer, Celery broker, cache and throttles -------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Rate limits fail open when Redis is gone (server/api/throttling.py); these
            # bound what a dead or frozen Redis can cost one request before that happens.
            "OPTIONS": {
                # Connections outlive the request (server/cache.py): no connect per request.
                "pool_class": "server.cache.ProcessConnectionPool",
                "socket_connect_timeout": env.float("CACHE_CONNECT_TIMEOUT_SECONDS", default=0.5),
                "socket_timeout": env.float("CACHE_TIMEOUT_SECONDS", default=0.5),
            },
        }
    }
    # Publish cost independent of group size (see DESIGN.md, performance shape).
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis pub/sub; a stream.event from an older sender gets its group (rolling deploys).
            "BACKEND": "notifications.layers.GroupTaggingPubSubChannelLayer",
            # Redis pub/sub ignores database numbers: deployments (and test runs) sharing
            # one Redis keep their groups apart by prefix.
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env.str("CHANNEL_LAYER_PREFIX", default="asgi")},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery ---------------------------------------------------------------------
# "localhost": kombu warns about a broker URL without a host name, even the in-memory one.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
# The beat schedule below, run inside the web process (server/scheduler.py): the embedded default
# has no `celery beat`; with REDIS_URL one runs (README.md, docs/operations.md).
EMBEDDED_SCHEDULER = env.bool("EMBEDDED_SCHEDULER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Rolling deploys: a worker hands a task it has not registered back to the queue (for a worker
# of the release that added it) instead of dropping it, for this long (server/worker.py, #25).
CELERY_WORKER_CONSUMER = "server.worker:HandOnUnknownTaskConsumer"
UNKNOWN_TASK_REQUEUE_SECONDS = env.int("UNKNOWN_TASK_REQUEUE_SECONDS", default=900)
UNKNOWN_TASK_REQUEUE_PAUSE_SECONDS = env.float("UNKNOWN_TASK_REQUEUE_PAUSE_SECONDS", default=0.2)
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
# A request must never hang on a dead broker: publishing gives up quickly and the
# outbox sweeper delivers later (see notifications).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 1,
    # Retry the connection at once: a refused connection then costs milliseconds, not 2 s.
    "interval_start": 0,
}
CELERY_TASK_PUBLISH_RETRY = False
# Deployments (and end-to-end test runs) sharing one Redis keep their workers apart.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Push has its own queue (and workers): a 10,000-device announcement must not hold up
# the outbox; the name is configurable so benchmarks sharing one Redis stay apart.
PUSH_QUEUE = env.str("PUSH_QUEUE", default="push")
CELERY_TASK_ROUTES = {"notifications.tasks.push_*": {"queue": PUSH_QUEUE}}
CELERY_TIMEZONE = "UTC"
# One entry per periodic job. Every task is idempotent, so beat may fire twice.
CELERY_BEAT_SCHEDULE: dict = {
    "auth-tokens-purge": {"task": "accounts.tasks.auth_tokens_purge_task", "schedule": timedelta(hours=1)},
    "idempotency-records-prune": {"task": "server.tasks.idempotency_records_prune_task", "schedule": timedelta(hours=1)},
}
# Scheduled posts go live within a minute of their time.
CELERY_BEAT_SCHEDULE["feed-publish-due-posts"] = {"task": "feed.tasks.posts_publish_due_task", "schedule": 60.0}
# Mandatory reads: reminders before the deadline, the summary for leaders after it.
CELERY_BEAT_SCHEDULE["feed-mandatory-reads"] = {"task": "feed.tasks.mandatory_reads_process_task", "schedule": 300.0}
# Polls (issue #21): announce polls whose closing time passed; `poll.updated` frames go out at
# most once per this many seconds per post (whole seconds: the cache's expiry resolution).
# The web console's heavy numbers, kept fresh for the scopes people opened (console/snapshots.py).
CONSOLE_SNAPSHOT_SECONDS = env.int("CONSOLE_SNAPSHOT_SECONDS", default=1200)
CELERY_BEAT_SCHEDULE["console-snapshots"] = {"task": "console.tasks.console_snapshots_refresh_task", "schedule": 600.0}
CELERY_BEAT_SCHEDULE["feed-polls-close-due"] = {"task": "feed.tasks.polls_close_due_task", "schedule": 60.0}
POLL_FRAME_INTERVAL_SECONDS = 1
# How long before an acknowledgement deadline reminders go out (minutes; default a day and two hours).
FEED_ACK_REMINDER_OFFSETS_MINUTES = env.list("FEED_ACK_REMINDER_OFFSETS_MINUTES", cast=int, default=[1440, 120])

# --- Auth -----------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTH_TOKEN_TTL = timedelta(days=env.int("AUTH_TOKEN_TTL_DAYS", default=30))
# last_used_at is written at most this often per token, so reads stay reads.
AUTH_TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)
INVITATION_TTL = timedelta(days=env.int("INVITATION_TTL_DAYS", default=14))
# A reset code sent by e-mail; a code handed over in person to staff without e-mail (issue #22).
PASSWORD_RESET_TTL = timedelta(minutes=env.int("PASSWORD_RESET_TTL_MINUTES", default=30))
LOGIN_CODE_TTL = timedelta(days=env.int("LOGIN_CODE_TTL_DAYS", default=14))
PASSWORD_RESET_ADDRESS_LIMIT = env.int("PASSWORD_RESET_ADDRESS_LIMIT", default=3)  # per address per hour
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)
IDEMPOTENCY_TTL = timedelta(hours=24)

# --- API --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["server.api.parsers.GuardedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "server.api.pagination.KeysetPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "server.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "server.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["server.api.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("THROTTLE_USER", default="600/min"),
        "login_ip": env.str("THROTTLE_LOGIN_IP", default="30/min"),
        "activate_ip": env.str("THROTTLE_ACTIVATE_IP", default="10/min"),
        "password_reset_ip": env.str("THROTTLE_PASSWORD_RESET_IP", default="10/min"),
        "uploads": env.str("THROTTLE_UPLOADS", default="30/min"),
        # Image loads: a feed page can hold 200 thumbnails; they must not eat the API budget.
        "media_reads": env.str("THROTTLE_MEDIA_READS", default="3000/min"),
        "kudos": env.str("THROTTLE_KUDOS", default="30/min"),
        "nominations": env.str("THROTTLE_NOMINATIONS", default="30/min"),
        "reports": env.str("THROTTLE_REPORTS", default="20/min"),
        # GET /search: typing sends a request per pause; a scraper of the whole company does not pass.
        "search": env.str("THROTTLE_SEARCH", default="60/min"),
        "signals": env.str("THROTTLE_SIGNALS", default="10/min"),
    },
    # Behind N proxies, the client IP is the Nth address from the right of X-Forwarded-For, read only
    # when the connection comes from TRUSTED_PROXIES (server/api/client_ip.py).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Proxies (addresses or networks, comma-separated) whose X-Forwarded-For is believed; empty: the
# header is ignored and the TCP peer is the client (server/api/client_ip.py, docs/operations.md).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an address or a network.") from None
# What server/api's middleware and error handlers authenticate a request with (server/api/authentication.py).
API_AUTHENTICATE_REQUEST = "accounts.authentication.authenticate_request_once"
API_MAX_PAGE_SIZE = 100
# After a cache error, rate limits stay open (and leave the cache alone) this long.
# Search ranks only this many most recent matches per type (search/engine.py): a common word
# costs what a rare one does.
SEARCH_RANK_WINDOW = env.int("SEARCH_RANK_WINDOW", default=200)
# Check every search statement compiled once per shape against the one the ORM builds for the
# same call (search.engine): on in the tests, off in production (it costs what compiling saves).
SEARCH_VERIFY_COMPILED = env.bool("SEARCH_VERIFY_COMPILED", default=False)
THROTTLE_CACHE_RETRY_SECONDS = env.float("THROTTLE_CACHE_RETRY_SECONDS", default=5.0)
# No Retry-After beyond this, whatever the window (a phone should not give up for a day).
THROTTLE_RETRY_AFTER_MAX_SECONDS = env.int("THROTTLE_RETRY_AFTER_MAX_SECONDS", default=900)

SPECTACULAR_SETTINGS = {
    "TITLE": "Frontline employee app API",
    "DESCRIPTION": "REST API for the employee feed, recognition and notifications. See docs/ for the guide.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "UserRoleEnum": "accounts.models.Role.choices",
        "MembershipRoleEnum": "accounts.models.MembershipRole.choices",
        "GroupKindEnum": "accounts.models.GroupKind.choices",
        "PostKindEnum": "feed.models.PostKind.choices",
        "ReactionTypeEnum": "feed.models.ReactionType.choices",
    },
    # Ours after the enum hook: a client generated with default options is right first time
    # (server/api/schema.py; checked with openapi-typescript in CI, clients/typescript/).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "server.api.schema.postprocess_shared_components",
        "server.api.schema.postprocess_request_defaults",
        "server.api.schema.postprocess_nullable_references",
        "server.api.schema.postprocess_email_format",
    ],
}
# Feed choice sets appear in several components; one name each keeps the phone's generated enums stable.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "PostCreateKindEnum": "feed.models.MEMBER_KIND_CHOICES",
        "PostCardKudosKindEnum": "feed.models.CardKindChoices.kudos",
        "PostCardAwardKindEnum": "feed.models.CardKindChoices.award",
        "PostCardGoalUpdateKindEnum": "feed.models.CardKindChoices.goal_update",
        "PostCardKeyMomentKindEnum": "feed.models.CardKindChoices.key_moment",
        "PostCardYouSaidWeDidKindEnum": "feed.models.CardKindChoices.you_said_we_did",
        "GoalStatusEnum": "feed.models.GoalStatus.choices",
        "DecisionMethodEnum": "recognition.models.DecisionMethod.choices",
        "RoundStatusEnum": "recognition.models.RoundStatus.choices",
    }
)

# --- i18n -------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Files --------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Embedded default: serve static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Not "media": that is the app of that name; uploads stay out of the source tree.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "uploads")
MEDIA_URL = "/media/"
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default=None)
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=300)
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
MEDIA_MAX_UPLOAD_BYTES = env.int("MEDIA_MAX_UPLOAD_BYTES", default=15 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MEDIA_MAX_UPLOAD_BYTES + 1024 * 1024
# Checked from the image header before any pixel is decoded (answered 400 above it).
MEDIA_MAX_PIXELS = env.int("MEDIA_MAX_PIXELS", default=40_000_000)
MEDIA_VARIANT_FORMAT = env.str("MEDIA_VARIANT_FORMAT", default="webp")
if MEDIA_VARIANT_FORMAT not in ("webp", "jpeg"):
    raise ImproperlyConfigured("MEDIA_VARIANT_FORMAT must be webp or jpeg.")
MEDIA_VARIANT_QUALITY = env.int("MEDIA_VARIANT_QUALITY", default=80)
MEDIA_THUMBNAIL_SIZE = 320
MEDIA_LARGE_SIZE = 1280
# Uploads never attached to a post, kudos or avatar within this time are deleted.
MEDIA_ORPHAN_TTL = timedelta(hours=env.int("MEDIA_ORPHAN_TTL_HOURS", default=24))
# Off: the authorising view sends the variant bytes itself. On (S3): the view answers with a
# redirect to a presigned URL valid AWS_QUERYSTRING_EXPIRE seconds, after the same check.
MEDIA_SERVE_REDIRECT = env.bool("MEDIA_SERVE_REDIRECT", default=False)
CELERY_BEAT_SCHEDULE["media-orphans-delete"] = {"task": "media.tasks.media_orphans_delete_task", "schedule": timedelta(hours=1)}
CELERY_BEAT_SCHEDULE["media-process-stale"] = {"task": "media.tasks.media_process_stale_task", "schedule": timedelta(minutes=5)}

# --- E-mail -------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@example.com")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))

# --- Push ---------------------------------------------------------------------------
FIREBASE_CREDENTIALS = env.str("FIREBASE_CREDENTIALS", default="")
PUSH_BACKEND = env.str("PUSH_BACKEND", default="fcm" if FIREBASE_CREDENTIALS else "log")
# Only tests and benchmarks set this: it points firebase-admin at the local fake FCM.
FCM_ENDPOINT_OVERRIDE = env.str("FCM_ENDPOINT_OVERRIDE", default="")
# Fixed sender pool per worker process (firebase-admin's send_each would start 500 threads).
PUSH_SENDER_POOL_SIZE = env.int("PUSH_SENDER_POOL_SIZE", default=32)
PUSH_FCM_SEND_MODE = env.str("PUSH_FCM_SEND_MODE", default="pool")  # pool | send_each
# 12: with FCM answering UNAVAILABLE to half of all sends (docs/reliability.md), 6 attempts
# left ~1.6 % of pushes undelivered (0.5^6); 12 leave ~0.02 %. The backoff (base doubling
# to the cap, half jitter) spreads them over ~20 minutes at worst.
PUSH_MAX_ATTEMPTS = env.int("PUSH_MAX_ATTEMPTS", default=12)
# A batch records what FCM accepted every this many messages, so a worker killed mid-batch
# re-sends at most this many (FCM has no idempotency key; see docs/reliability.md).
PUSH_RECORD_EVERY = env.int("PUSH_RECORD_EVERY", default=64)
PUSH_BACKOFF_BASE_SECONDS = env.float("PUSH_BACKOFF_BASE_SECONDS", default=2.0)
PUSH_BACKOFF_CAP_SECONDS = env.float("PUSH_BACKOFF_CAP_SECONDS", default=300.0)
CELERY_BEAT_SCHEDULE["push-deliveries-sweep"] = {
    "task": "notifications.tasks.push_deliveries_sweep_task",
    "schedule": 120.0,
}

# --- Realtime -----------------------------------------------------------------------
# Browser origins allowed on the WebSocket; native apps send no Origin at all.
WEBSOCKET_ALLOWED_ORIGINS = env.list("WEBSOCKET_ALLOWED_ORIGINS", default=[])
# Outbox: the sweeper re-delivers events still undelivered this long after they were
# written (the after-commit task normally delivers within milliseconds).
OUTBOX_SWEEP_AFTER = timedelta(seconds=env.int("OUTBOX_SWEEP_AFTER_SECONDS", default=30))
# A delivery claims its event for this long; a crashed worker's claim expires.
OUTBOX_LEASE = timedelta(seconds=env.int("OUTBOX_LEASE_SECONDS", default=60))
# An event whose push planning was handed to the push queue is left alone this long before the
# sweeper plans it again (re-planning is idempotent). Planning tasks go ahead of queued batches
# (notifications/push/batches.py BATCH_PRIORITY), so they wait seconds; the lease is what a planning
# task lost with the broker's memory costs.
OUTBOX_PUSH_PLAN_LEASE = timedelta(seconds=env.int("OUTBOX_PUSH_PLAN_LEASE_SECONDS", default=120))
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=20)
OUTBOX_RETENTION = timedelta(days=env.int("OUTBOX_RETENTION_DAYS", default=7))
# After a failed publish the process stops trying the broker for this long and
# leaves delivery to the sweeper, so requests do not each pay the connect timeout.
OUTBOX_BROKER_BACKOFF_SECONDS = env.float("OUTBOX_BROKER_BACKOFF_SECONDS", default=15.0)
# Personal-data erasures whose worker died resume from their step (moderation.erasure).
ERASURE_STALE_AFTER = timedelta(minutes=env.int("ERASURE_STALE_AFTER_MINUTES", default=10))
CELERY_BEAT_SCHEDULE["erasure-jobs-resume"] = {"task": "moderation.tasks.erasure_jobs_resume_task", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["outbox-sweep"] = {"task": "notifications.tasks.outbox_sweep_task", "schedule": 15.0}
CELERY_BEAT_SCHEDULE["outbox-prune"] = {"task": "notifications.tasks.outbox_prune_task", "schedule": 3600.0}

# --- Security -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Logs: one line per record with the request id (server/obs/logging.py); JSON lines in production
# (`LOG_FORMAT=json`, the default with DEBUG off), lines a person reads under `make run`.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "server.obs.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # A refused admin page is answered with the 403 page; its log line needs no traceback.
        "django.request": {"filters": ["no_permission_denied_traceback", "database_outage_without_traceback"]},
    },
    "filters": {
        "no_permission_denied_traceback": {"()": "server.log_filters.NoPermissionDeniedTraceback"},
        "database_outage_without_traceback": {"()": "server.log_filters.DatabaseOutageWithoutTraceback"},
        "request_context": {"()": "server.obs.logging.RequestContextFilter"},
    },
}
# /metrics (server/metrics_view.py): answered with `Authorization: Bearer <METRICS_TOKEN>`; with
# DEBUG on and no token, to anyone (make run); otherwise 404. Multi-process: PROMETHEUS_MULTIPROC_DIR.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Off: no HTTP metrics are recorded (the request id stays); for measuring their cost (bench).
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
if CELERY_TASK_ALWAYS_EAGER:
    # Eager tasks run inside requests and commands (seed_demo): one "Task ... succeeded" line
    # per task is a worker's log, noise here. Failures are still logged (ERROR).
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}
if EMBEDDED_SCHEDULER:
    # "Sending due task" every 15 seconds (the outbox sweeper) would drown the server's log.
    LOGGING["loggers"]["celery.beat"] = {"level": "WARNING"}
CSRF_FAILURE_VIEW = "server.views.csrf_failure"  # the envelope under /api/, a page elsewhere

CELERY_BEAT_SCHEDULE["recognition-close-award-rounds"] = {
    # Hourly: a round closes within an hour of midnight on the 1st in its organisation's zone;
    # the close itself is idempotent, so an overlapping or repeated run changes nothing.
    "task": "recognition.tasks.award_rounds_close_task",
    "schedule": 3600.0,
}

SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "ModerationCaseStatusEnum": "moderation.models.CaseStatus.choices",
        "ReportReasonEnum": "moderation.models.ReportReason.choices",
        "ModerationTargetTypeEnum": "moderation.models.TargetType.choices",
        # Shared by the per-type notification shapes and by queue rows and their events.
        "NotificationReasonEnum": "notifications.catalogue.reason_choices",
        "ResolutionActionEnum": "moderation.models.Resolution.choices",
    }
)

# Voice: an open signal reminds its owner after the organisation's promise, escalates at twice it.
# How long GET /signals/insights keeps its figures per scope (0: computed on every request).
VOICE_INSIGHTS_CACHE_SECONDS = env.int("VOICE_INSIGHTS_CACHE_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["voice-signals-promise"] = {"task": "voice.tasks.signals_promise_process_task", "schedule": 300.0}
# Surveys open, remind and close within a minute of their times (voice.tasks; each step happens once).
CELERY_BEAT_SCHEDULE["voice-surveys-tick"] = {"task": "voice.tasks.surveys_tick_task", "schedule": 60.0}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "SurveyQuestionKindEnum": "voice.models.QuestionKind.choices",
        "SurveyStatusEnum": "voice.survey_serializers.SURVEY_STATUS_CHOICES",
        "SurveyMyStatusEnum": "voice.survey_serializers.MY_STATUS_CHOICES",
        "SurveyEveryEnum": "voice.models.Every.choices",
        "SignalKindEnum": "voice.models.signals.SignalKind.choices",
        "SignalStatusEnum": "voice.models.signals.SignalStatus.choices",
        "SignalSettableStatusEnum": "voice.models.signals.SETTABLE_STATUS_CHOICES",
        "SignalVisibilityEnum": "voice.models.signals.SignalVisibility.choices",
    }
)
