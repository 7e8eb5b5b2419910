using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hub.Store;

public sealed class StoreHealthCheck(HubDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
            return HealthCheckResult.Healthy($"{database.Dialect} reachable");
        }
        catch (Exception exception)
        {
            return HealthCheckResult.Unhealthy($"{database.Dialect} unreachable", exception);
        }
    }
}
