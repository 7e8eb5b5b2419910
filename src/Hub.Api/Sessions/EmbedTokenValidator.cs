using Dapper;
using Hub.Api.Auth;
using Hub.Api.Auth.Jwt;
using Hub.Api.Infrastructure;
using Hub.Store;

namespace Hub.Api.Sessions;

public sealed record TokenIdentity(string TenantId, string AgentId, string Role);

/// <summary>
/// Validates an embed token (hub-minted) and burns its <c>jti</c> in the store, so a token works once
/// across every Api node. Errors: <c>invalid_token</c>, <c>token_expired</c>, <c>token_replayed</c>.
/// </summary>
public sealed class EmbedTokenValidator(HubSigningKey hubKey, HubDatabase database, TimeProvider clock)
{
    /// <summary>Clocks of CRM backends drift; a few seconds of tolerance, no more.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(5);

    public async Task<TokenIdentity> ValidateAndConsumeAsync(string token, CancellationToken cancellationToken)
    {
        if (!Hs256Jwt.TryReadUnverified(token, out var keyId, out _))
        {
            throw Invalid("The token is not a well-formed JWT.");
        }

        var secret = keyId == HubSigningKey.KeyId ? await hubKey.GetAsync(cancellationToken) : null;
        var result = Hs256Jwt.Validate(token, kid => kid == HubSigningKey.KeyId ? secret : null, clock, ClockSkew);
        if (result.Error == JwtError.Expired)
        {
            throw HubProblemException.Unauthorized("token_expired", "The token has expired; ask the CRM backend for a new one.");
        }

        if (!result.IsValid || result.Claims is not { } claims)
        {
            throw Invalid($"The token was refused ({result.Error}).");
        }

        if (claims.Issuer != HubSigningKey.Issuer || !Ids.IsTenantId(claims.Audience) || !Ids.IsAgentId(claims.Subject)
            || string.IsNullOrEmpty(claims.TokenId) || claims.TokenId.Length > 128 || claims.ExpiresAt is null)
        {
            throw Invalid("The token's issuer, audience, subject or jti is not acceptable.");
        }

        var role = claims.Role ?? Roles.Agent;
        if (role is not (Roles.Agent or Roles.Analyst))
        {
            throw Invalid("role must be 'agent' or 'analyst'.");
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var tenantExists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM tenants WHERE id = @id", new { id = claims.Audience }, cancellationToken: cancellationToken));
        if (tenantExists == 0)
        {
            throw Invalid("The token's tenant does not exist.");
        }

        var burned = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO used_tokens (tenant_id, jti, expires_at) VALUES (@tenantId, @jti, @expiresAt)
            ON CONFLICT (tenant_id, jti) DO NOTHING
            """,
            new
            {
                tenantId = claims.Audience, jti = claims.TokenId,
                expiresAt = claims.ExpiresAt.Value.Add(ClockSkew).ToUnixTimeMilliseconds(),
            }, cancellationToken: cancellationToken));
        if (burned == 0)
        {
            throw HubProblemException.Unauthorized("token_replayed", "This token was already used; tokens are single-use.");
        }

        return new TokenIdentity(claims.Audience!, claims.Subject!, role);
    }

    private static HubProblemException Invalid(string detail) => HubProblemException.Unauthorized("invalid_token", detail);
}
