using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hub.Store.Config;

/// <summary>
/// Moves a <c>crm_lookup.secret</c> written before migration 012 out of its config document into
/// <c>tenant_config.crm_lookup_secret</c>, encrypted. Runs at every start, after the migrations and the key
/// ring's bootstrap; finds nothing to do once a store is upgraded.
/// </summary>
/// <remarks>
/// Each row is rewritten only if its document is still the one read, so a config written meanwhile (by
/// the API, or by another process doing the same upgrade) is never overwritten.
/// </remarks>
internal sealed class CrmLookupSecretUpgrade(HubDatabase database, CrmLookupSecrets secrets, ILogger<CrmLookupSecretUpgrade> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        List<(string TenantId, string Document)> candidates;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            candidates = (await connection.QueryAsync<(string, string)>(new CommandDefinition(
                """SELECT tenant_id, document FROM tenant_config WHERE document LIKE '%"secret"%'""",
                cancellationToken: cancellationToken))).ToList();
        }

        var moved = 0;
        foreach (var (tenantId, document) in candidates)
        {
            var config = JsonSerializer.Deserialize<TenantConfig>(document, TenantConfigReader.Json);
            if (config?.CrmLookup is not { Secret: { Length: > 0 } secret } lookup)
            {
                continue;
            }

            var protectedSecret = secrets.Protect(tenantId, secret);
            var withoutSecret = JsonSerializer.Serialize(config with { CrmLookup = lookup with { Secret = null } }, TenantConfigReader.Json);
            await using var connection = await database.OpenAsync(cancellationToken);
            moved += await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE tenant_config SET document = @withoutSecret, crm_lookup_secret = @protectedSecret WHERE tenant_id = @tenantId AND document = @document",
                new { withoutSecret, protectedSecret, tenantId, document }, cancellationToken: cancellationToken));
        }

        if (moved > 0)
        {
            logger.LogInformation("Encrypted the crm_lookup.secret of {Count} account config(s) written before secrets were encrypted", moved);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
