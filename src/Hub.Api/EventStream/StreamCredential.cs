using System.Security.Claims;
using Dapper;
using Hub.Api.Auth;
using Hub.Store;

namespace Hub.Api.EventStream;

/// <summary>
/// The credential a long-lived response was opened with: an API key or a session, by its store id. Authentication
/// looks a credential up once per request, so a response that lasts hours must look again itself: the same
/// conditions as <see cref="HubAuthenticationHandler"/>'s lookups (not revoked; a session also not expired), by id,
/// so it holds whatever form the token has.
/// </summary>
internal sealed record StreamCredential(string Kind, string Id)
{
    /// <summary>The key a per-credential limit counts under.</summary>
    public string Key => $"{Kind}:{Id}";

    public static StreamCredential Of(ClaimsPrincipal user) => user.IsSession()
        ? new StreamCredential(HubClaims.SessionKind, user.FindFirstValue(HubClaims.SessionId)!)
        : new StreamCredential(HubClaims.ApiKeyKind, user.FindFirstValue(HubClaims.KeyId)!);

    /// <summary>True while the credential would still authenticate a new request.</summary>
    public async Task<bool> HoldsAsync(HubDatabase database, TimeProvider clock, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var sql = Kind == HubClaims.SessionKind
            ? "SELECT count(*) FROM sessions WHERE id = @Id AND revoked_at IS NULL AND expires_at > @now"
            : "SELECT count(*) FROM api_keys WHERE id = @Id AND revoked_at IS NULL";
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(sql, new { Id, now = clock.NowMs() }, cancellationToken: cancellationToken)) > 0;
    }
}
