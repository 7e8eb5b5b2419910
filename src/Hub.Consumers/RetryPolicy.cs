using Hub.Store;
using MassTransit;

namespace Hub.Consumers;

internal static class RetryPolicy
{
    /// <summary>The waits before each new try of a message that failed for another reason than an unavailable database.</summary>
    public static readonly int[] OtherFaultIntervals = [50, 200, 1000, 5000, 15000];

    /// <summary>How often a message is tried again while the database cannot be reached: backing off to this.</summary>
    public static readonly TimeSpan UnavailableRetryCeiling = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Two retries, outer to inner. While the database cannot be reached (a restart, a failover, a crash: see
    /// <see cref="HubDatabase.IsUnavailable"/>) the message is tried again, backing off to every
    /// <see cref="UnavailableRetryCeiling"/>, for as long as that lasts: an outage must not move events to
    /// <c>_error</c>, where nobody logs them. The messages wait unacked, so a killed worker's are delivered again,
    /// and they are bounded by the endpoint's prefetch. Other faults (a locked SQLite file, a bad row) get a few
    /// tries within seconds, then the message goes to the endpoint's <c>_error</c> queue instead of being acked.
    /// </summary>
    public static void UseStoreRetry(this IReceiveEndpointConfigurator endpoint)
    {
        endpoint.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(HubDatabase.IsUnavailable);
            retry.Exponential(int.MaxValue, TimeSpan.FromMilliseconds(200), UnavailableRetryCeiling, TimeSpan.FromMilliseconds(500));
        });
        endpoint.UseMessageRetry(retry =>
        {
            retry.Ignore<Exception>(HubDatabase.IsUnavailable);
            retry.Intervals(OtherFaultIntervals);
        });
    }
}
