using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Hub.Api.RateLimits;

/// <summary>
/// One fixed one-minute window per credential on <c>/api/v1/**</c>: per API key, per agent session,
/// and per client IP for requests without a valid credential (the token exchange above all). Runs after
/// authentication so the credential is known; the authentication handler consults the same per-IP
/// window before it spends a store lookup (<see cref="HubRequestLimiter"/>). The demo's endpoints
/// (<c>/demo/api/**</c>), which take no credential at all, have a window per client IP of their own.
/// Health, the relay page, static files and the agent hub are not limited here.
/// </summary>
internal static class HubRateLimits
{
    public const string ApiPrefix = "/api/v1";

    public static IServiceCollection AddHubRateLimits(this IServiceCollection services)
    {
        services.AddSingleton<HubRequestLimiter>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<HubRequestLimiter>((options, limiter) =>
        {
            options.GlobalLimiter = limiter.ForRequests();
            options.OnRejected = async (rejected, _) =>
            {
                var retryAfter = HubRequestLimiter.RetryAfterSeconds(rejected.Lease);
                rejected.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await HubProblems.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, "rate_limited",
                    $"Too many requests for this credential; retry after {retryAfter} s.");
            };
        });
        return services;
    }
}

/// <summary>
/// The windows themselves, one per partition key (<c>key:</c>, <c>session:</c>, <c>ip:</c>, <c>demo:</c>),
/// shared by the rate-limiting middleware and the authentication handler. A bearer token that fails its
/// store lookup spends one request of its client IP's anonymous window; once that window is spent, a
/// token from that IP is not looked up at all until it ends, so spraying made-up keys costs the store
/// at most the anonymous budget per IP and minute.
/// </summary>
internal sealed class HubRequestLimiter : IDisposable
{
    private const string Unlimited = "none";
    private static readonly object Charged = new();

    private readonly PartitionedRateLimiter<string> _windows;

    public HubRequestLimiter(IOptions<HubSettings> options)
    {
        var limits = options.Value.RateLimits;
        _windows = PartitionedRateLimiter.Create<string, string>(partition => PermitsOf(partition, limits) is var permits and > 0
            ? RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = permits,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            })
            : RateLimitPartition.GetNoLimiter(Unlimited));
    }

    /// <summary>The middleware's view: a request's partition.</summary>
    public PartitionedRateLimiter<HttpContext> ForRequests() => _windows.WithTranslatedKey<HttpContext>(PartitionOf, leaveOpen: true);

    /// <summary>
    /// Whether this request's client may spend a credential lookup: its anonymous window is not spent.
    /// When it is, <paramref name="retryAfterSeconds"/> says when to come back.
    /// </summary>
    public bool MayLookUp(HttpContext context, out int retryAfterSeconds)
    {
        using var lease = _windows.AttemptAcquire(AnonymousPartition(context), 0);
        retryAfterSeconds = lease.IsAcquired ? 0 : RetryAfterSeconds(lease);
        return lease.IsAcquired;
    }

    /// <summary>A lookup found nothing: it spends the client's anonymous window now, and the request no more.</summary>
    public void ChargeFailedLookup(HttpContext context)
    {
        using var lease = _windows.AttemptAcquire(AnonymousPartition(context));
        context.Items[Charged] = true;
    }

    public static int RetryAfterSeconds(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 60;

    public void Dispose() => _windows.Dispose();

    private static string PartitionOf(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/demo/api", StringComparison.OrdinalIgnoreCase))
        {
            return "demo:" + ClientIp(context);
        }

        if (!path.StartsWithSegments(HubRateLimits.ApiPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Unlimited;
        }

        var user = context.User;
        if (user.Identity?.IsAuthenticated == true)
        {
            if (user.FindFirstValue(HubClaims.KeyId) is { } keyId)
            {
                return "key:" + keyId;
            }

            if (user.FindFirstValue(HubClaims.SessionId) is { } sessionId)
            {
                return "session:" + sessionId;
            }
        }

        return context.Items.ContainsKey(Charged) ? Unlimited : AnonymousPartition(context);
    }

    private static string AnonymousPartition(HttpContext context) => "ip:" + ClientIp(context);

    private static string ClientIp(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static int PermitsOf(string partition, RateLimitSettings limits) => partition[..(partition.IndexOf(':', StringComparison.Ordinal) + 1)] switch
    {
        "key:" => limits.PerKeyPerMinute,
        "session:" => limits.PerSessionPerMinute,
        "ip:" or "demo:" => limits.AnonymousPerMinute,
        _ => 0,
    };
}
