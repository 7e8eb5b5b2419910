using Hub.Store.DataProtection;

namespace Hub.Store;

/// <summary>The <c>Hub</c> configuration section (<c>Hub__*</c> environment variables).</summary>
public sealed class HubSettings
{
    public const string Section = "Hub";

    /// <summary>Where the embedded default keeps its SQLite file and generated admin key.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary><c>inmemory</c> (embedded default) or <c>rabbitmq</c>.</summary>
    public string Bus { get; set; } = "inmemory";

    /// <summary>When set, this key is the master tenant's admin key; otherwise one is generated at first start.</summary>
    public string? AdminApiKey { get; set; }

    /// <summary>Identifies this Api node in presence; defaults to a fresh id per process.</summary>
    public string? NodeId { get; set; }

    /// <summary>
    /// The country of numbers in national form when an account has not set its own: a calling code ("84", read as
    /// its main region) or a region code ("VN").
    /// </summary>
    public string DefaultCountryCode { get; set; } = "84";

    /// <summary>
    /// How long an event id is remembered for answering <c>duplicate</c>. Far longer than a relay keeps
    /// an unacked event; after it a resend is published again and the consumers' own idempotency holds.
    /// </summary>
    public TimeSpan EventIdRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long the event stream (<c>GET /api/v1/events/stream</c>) keeps an event; older rows may be
    /// pruned, so a client must reconnect within this time to resume without a gap.
    /// </summary>
    public TimeSpan EventStreamRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long a publish may wait for the bus before the hub answers <c>bus_unavailable</c>.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Embedded default only: how many deliveries of acked events may wait in memory for their consumers (an
    /// <c>incoming_call</c> is two: call log and screen-pop). Past it a publish waits for room, at most
    /// <see cref="PublishTimeout"/>, then is answered <c>bus_unavailable</c>.
    /// </summary>
    public int EmbeddedBacklog { get; set; } = 2_000;

    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// How long the hub signs its own embed tokens with one key (default 30 days, at least an hour). The next
    /// token minted after that makes a new key; tokens the old one signed stay valid until they expire, no longer.
    /// <c>Hub.Api rotate-embed-token-key</c> rotates at once.
    /// </summary>
    public TimeSpan EmbedTokenKeyLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Origins of CRM pages that run the relay against this hub from another origin (CORS for REST and
    /// SignalR). Hub-wide until per-account <c>crm_origins</c> take over.
    /// </summary>
    public string[] CrmOrigins { get; set; } = [];

    /// <summary>
    /// How deep tenants may nest: a tenant may have at most this many ancestors (the master's children have one).
    /// Default 16. Creating one deeper is <c>400 tenant_too_deep</c>; tenants that already exist stay reachable.
    /// </summary>
    public int MaxTenantDepth { get; set; } = 16;

    public DemoSettings Demo { get; set; } = new();

    /// <summary><c>Hub__RateLimits__*</c>: requests per minute on <c>/api/v1</c>, per credential.</summary>
    public RateLimitSettings RateLimits { get; set; } = new();

    /// <summary>A command not confirmed by the agent's browser within this time reads as <c>expired</c>.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A call still ringing or in progress whose last event is older than this is closed by the sweeper
    /// (status <c>failed</c>, <c>end_reason</c> <c>swept</c>): a browser closed mid-call never sends its hangup.
    /// </summary>
    public TimeSpan CallSweepAfter { get; set; } = TimeSpan.FromHours(4);

    /// <summary><c>Hub__Webhooks__*</c>: delivery timeouts, the retry schedule and the SSRF rules.</summary>
    public WebhookSettings Webhooks { get; set; } = new();

    /// <summary><c>Hub__Outbound__*</c>: where the hub's own HTTP requests (webhooks, CRM lookups) may go.</summary>
    public OutboundSettings Outbound { get; set; } = new();

    /// <summary><c>Hub__Limits__*</c>: bounds on the long-lived work one credential may hold.</summary>
    public LimitSettings Limits { get; set; } = new();

    /// <summary><c>Hub__ScreenPop__*</c>: how much of the screen-pop workers one account may hold.</summary>
    public ScreenPopSettings ScreenPop { get; set; } = new();

    /// <summary><c>Hub__DataProtection__*</c>: the certificate that encrypts the Data Protection key ring in the store.</summary>
    public DataProtectionSettings DataProtection { get; set; } = new();
}

/// <summary>
/// <c>Hub__Limits__*</c>: how much long-lived work one credential may hold, so that one leaked or buggy key or
/// session cannot tie up a node. A limit of 0 or less turns that limit off.
/// </summary>
public sealed class LimitSettings
{
    /// <summary>Open event streams (<c>GET /api/v1/events/stream</c>) per API key on one Api node; past it <c>429 too_many_streams</c>.</summary>
    public int StreamsPerCredential { get; set; } = 10;

    /// <summary>Live agent hub connections per session, across all Api nodes; past it the connect is refused with <c>too_many_connections</c>.</summary>
    public int ConnectionsPerSession { get; set; } = 20;

    /// <summary>
    /// How often an open event stream checks that its credential still holds (not revoked, not expired); it ends when
    /// it does not. This bounds how long a revoked key keeps receiving events.
    /// </summary>
    public TimeSpan StreamCredentialCheck { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary><c>Hub__ScreenPop__*</c>: the screen-pop workers' share per account.</summary>
public sealed class ScreenPopSettings
{
    /// <summary>
    /// How many pops of one account may wait on its CRM lookup at once, per worker process (default 16, at
    /// least 1). A pop beyond it does not wait: it shows the local matches or an unknown caller, as a CRM
    /// timeout would, so a slow CRM holds at most this many of the shared screen-pop slots.
    /// </summary>
    public int MaxConcurrentLookupsPerTenant { get; set; } = 16;
}

/// <summary><c>Hub__Demo__*</c>: the <c>/demo</c> CRM page and its webphone simulator.</summary>
public sealed class DemoSettings
{
    /// <summary>Default: on in the embedded default (in-memory bus), off in the production topology.</summary>
    public bool? Enabled { get; set; }

    /// <summary>
    /// A second listening address for the webphone simulator, so it runs on another origin than the
    /// CRM page as the real webphone does. Default: the first listening address with its port + 1.
    /// </summary>
    public string? WebphoneUrl { get; set; }
}

/// <summary>
/// <c>Hub__RateLimits__*</c>: a fixed one-minute window per credential on <c>/api/v1</c>, and the
/// largest request bodies. A limit of 0 or less turns that limit off.
/// </summary>
public sealed class RateLimitSettings
{
    /// <summary>Requests per minute for one API key.</summary>
    public int PerKeyPerMinute { get; set; } = 1200;

    /// <summary>Requests per minute for one agent session.</summary>
    public int PerSessionPerMinute { get; set; } = 600;

    /// <summary>Requests per minute from one client IP without a valid credential (token exchange).</summary>
    public int AnonymousPerMinute { get; set; } = 60;

    /// <summary>Largest REST request body, in bytes.</summary>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest body of <c>PUT /api/v1/contacts</c> (a bulk upsert of up to 1000 contacts), in bytes.</summary>
    public long MaxContactsBodyBytes { get; set; } = 8 * 1024 * 1024;
}

/// <summary><c>Hub__Webhooks__*</c>: how webhooks are delivered, retried and disabled, and where they may go.</summary>
public sealed class WebhookSettings
{
    /// <summary>
    /// The delays between attempts after the first (immediate) one: nine attempts over about two days.
    /// </summary>
    public static readonly TimeSpan[] DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10), TimeSpan.FromHours(24),
    ];

    /// <summary>One HTTP attempt (connect, send, first bytes of the answer) is cut after this.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Delays between attempts (<c>Hub__Webhooks__RetrySchedule__0=00:00:05</c>, …); unset means
    /// <see cref="DefaultRetrySchedule"/>. (Null by default because the configuration binder appends to
    /// an array it finds rather than replacing it.)
    /// </summary>
    public TimeSpan[]? RetrySchedule { get; set; }

    public IReadOnlyList<TimeSpan> EffectiveRetrySchedule => RetrySchedule is { Length: > 0 } schedule ? schedule : DefaultRetrySchedule;

    /// <summary>An endpoint whose attempts have failed (with no success) for this long is disabled.</summary>
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>Delivered and failed deliveries, with their attempts, are kept this long in the delivery log.</summary>
    public TimeSpan LogRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often a worker looks for due deliveries besides being woken by new events and results.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Development only: allows <c>http://</c> URLs to loopback hosts (and loopback targets). The same
    /// switch as <see cref="OutboundSettings.AllowHttpLoopback"/> (either name turns it on), so it applies
    /// to CRM lookups too.
    /// </summary>
    public bool AllowHttpLoopback { get; set; }

    /// <summary>
    /// Allows targets in private networks (RFC 1918, CGNAT, IPv6 ULA, loopback); off by default against SSRF.
    /// The same switch as <see cref="OutboundSettings.AllowPrivateNetworks"/> (either name turns it on).
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>
    /// How many attempts of one account may be under way at once, across all worker processes (default 16,
    /// at least 1). Its other due deliveries wait in the store, keeping their place and their schedule, so an
    /// account whose endpoints never answer holds at most this many of the shared delivery slots.
    /// </summary>
    public int MaxConcurrentPerTenant { get; set; } = 16;

    /// <summary>
    /// How many attempts of one account to one host (with its port) may be under way at once (default 8, at
    /// least 1), so one stalled endpoint leaves the account's other endpoints room.
    /// </summary>
    public int MaxConcurrentPerHost { get; set; } = 8;
}

/// <summary>
/// <c>Hub__Outbound__*</c>: the one SSRF policy of every request the hub makes on a tenant's behalf
/// (webhook deliveries and CRM lookups). <c>Hub__Webhooks__AllowHttpLoopback</c> and
/// <c>Hub__Webhooks__AllowPrivateNetworks</c> are older names of the same switches: either turns one on.
/// </summary>
public sealed class OutboundSettings
{
    /// <summary>Default false. Development only: <c>http://</c> to loopback hosts, and loopback targets.</summary>
    public bool AllowHttpLoopback { get; set; }

    /// <summary>
    /// Default false. Targets in private networks (RFC 1918, CGNAT, IPv6 ULA, loopback). Link-local (cloud
    /// metadata), multicast and reserved addresses stay refused whatever this says.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }
}
