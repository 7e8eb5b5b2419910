using Dapper;
using Hub.Store;

namespace Hub.Api.Auth;

/// <summary>An active API key as the store holds it.</summary>
internal sealed record StoredApiKey(string Id, string TenantId, string Scopes);

/// <summary>A live session as the store holds it.</summary>
internal sealed record StoredSession(string Id, string TenantId, string AgentId, string Role, long ExpiresAt);

/// <summary>
/// The store queries behind authentication, by hash of the presented secret: the one place a bearer
/// token costs a database round trip, so <see cref="HubAuthenticationHandler"/> decides before it
/// whether a caller may spend one. Virtual so a test can count what reaches the store.
/// </summary>
internal class CredentialLookup(HubDatabase database, TimeProvider clock)
{
    public virtual async Task<StoredApiKey?> FindApiKeyAsync(string keyHash, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QueryFirstOrDefaultAsync<StoredApiKey>(new CommandDefinition(
            "SELECT id, tenant_id, scopes FROM api_keys WHERE key_hash = @keyHash AND revoked_at IS NULL",
            new { keyHash }, cancellationToken: cancellationToken));
    }

    public virtual async Task<StoredSession?> FindSessionAsync(string tokenHash, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QueryFirstOrDefaultAsync<StoredSession>(new CommandDefinition(
            """
            SELECT id, tenant_id, agent_id, role, expires_at FROM sessions
            WHERE token_hash = @tokenHash AND revoked_at IS NULL AND expires_at > @now
            """,
            new { tokenHash, now = clock.NowMs() }, cancellationToken: cancellationToken));
    }
}
