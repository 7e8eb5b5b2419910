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
/// authentication so the credential is known. Health, the relay page, static files and the agent hub
/// are not limited here.
/// </summary>
internal static class HubRateLimits
{
    public const string ApiPrefix = "/api/v1";

    public static IServiceCollection AddHubRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (!context.Request.Path.StartsWithSegments(ApiPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    return RateLimitPartition.GetNoLimiter("unlimited");
                }

                var limits = context.RequestServices.GetRequiredService<IOptions<HubSettings>>().Value.RateLimits;
                var (partition, permits) = PartitionOf(context, limits);
                return permits <= 0
                    ? RateLimitPartition.GetNoLimiter("unlimited")
                    : RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = permits,
                        Window = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    });
            });
            options.OnRejected = async (rejected, _) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
                    : 60;
                rejected.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await HubProblems.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, "rate_limited",
                    $"Too many requests for this credential; retry after {retryAfter} s.");
            };
        });
        return services;
    }

    /// <summary>The credential's partition; the key includes the permit count so a changed setting takes effect.</summary>
    private static (string Partition, int Permits) PartitionOf(HttpContext context, RateLimitSettings limits)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated == true)
        {
            if (user.FindFirstValue(HubClaims.KeyId) is { } keyId)
            {
                return ("key:" + keyId, limits.PerKeyPerMinute);
            }

            if (user.FindFirstValue(HubClaims.SessionId) is { } sessionId)
            {
                return ("session:" + sessionId, limits.PerSessionPerMinute);
            }
        }

        return ("ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"), limits.AnonymousPerMinute);
    }
}
