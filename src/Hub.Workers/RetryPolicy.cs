using MassTransit;

namespace Hub.Workers;

internal static class RetryPolicy
{
    /// <summary>
    /// Transient store faults (a locked SQLite file, a PostgreSQL failover) clear within seconds; after
    /// these the message goes to the endpoint's <c>_error</c> queue instead of being acked.
    /// </summary>
    public static void UseStoreRetry(this IRetryConfigurator retry) =>
        retry.Intervals(50, 200, 1000, 5000, 15000);
}
