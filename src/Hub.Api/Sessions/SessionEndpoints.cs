using System.Security.Claims;
using Dapper;
using Hub.Api.Agents;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Contracts;
using Hub.Store;
using Microsoft.Extensions.Options;

namespace Hub.Api.Sessions;

public sealed record EmbedTokenRequest(string? AgentId, int? TtlSeconds, string? Role = null);

public sealed record EmbedTokenResponse(string EmbedToken, DateTimeOffset ExpiresAt);

public sealed record SessionResponse(string SessionToken, DateTimeOffset ExpiresAt, string TenantId, string AgentId, string Role);

internal static class SessionEndpoints
{
    private const int DefaultTtlSeconds = 300;
    private const string SignedOut = "signed_out";

    public static void MapSessionEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/webphone/embed-token", MintEmbedTokenAsync).WithTags("Sessions")
            .RequireAuthorization(HubPolicies.Scope(Scopes.Tokens));
        app.MapPost("/api/v1/sessions", ExchangeAsync).WithTags("Sessions").AllowAnonymous();
        app.MapDelete("/api/v1/sessions/current", SignOutAsync).WithTags("Sessions").RequireAuthorization(HubPolicies.AnySession);
    }

    /// <summary>A short-lived, single-use token for one agent (or, with <c>calls:read</c>, an analyst), for the CRM backend to hand to its page.</summary>
    private static async Task<EmbedTokenResponse> MintEmbedTokenAsync(EmbedTokenRequest request, WorkingAccount account, ClaimsPrincipal user,
        HubSigningKey signingKey, CancellationToken cancellationToken)
    {
        if (!Ids.IsAgentId(request.AgentId))
        {
            throw HubProblemException.BadRequest("invalid_agent_id", "agent_id is required: 1 to 128 of A-Z a-z 0-9 . _ @ + -.");
        }

        var ttl = request.TtlSeconds ?? DefaultTtlSeconds;
        if (ttl is < 30 or > HubSigningKey.MaxTtlSeconds)
        {
            throw HubProblemException.BadRequest("invalid_ttl", $"ttl_seconds must be between 30 and {HubSigningKey.MaxTtlSeconds}.");
        }

        var role = request.Role ?? Roles.Agent;
        if (role is not (Roles.Agent or Roles.Analyst))
        {
            throw HubProblemException.BadRequest("invalid_role", "role must be 'agent' or 'analyst'.");
        }

        // An analyst session reads the working account's whole call log (and its descendants'), so only a
        // key that may read it itself may hand that out; 'tokens' alone mints agents. A CRM-signed SSO
        // token needs no such key: the tenant's own signing key is the authority for its role.
        if (role == Roles.Analyst && !user.HasScope(Scopes.CallsRead))
        {
            throw HubProblemException.Forbidden("insufficient_scope",
                "Minting an 'analyst' embed token needs the 'calls:read' (or 'admin') scope as well as 'tokens': an analyst session reads the account's call log.");
        }

        var (token, expiresAt) = await signingKey.MintEmbedTokenAsync(account.TenantId, request.AgentId!, ttl, cancellationToken, role);
        return new EmbedTokenResponse(token, expiresAt);
    }

    /// <summary>Trades a single-use embed or SSO token for a session.</summary>
    private static async Task<SessionResponse> ExchangeAsync(HttpContext context, EmbedTokenValidator validator, HubDatabase database,
        IOptions<HubSettings> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        string? header = context.Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            throw HubProblemException.Unauthorized("invalid_token", "Send the embed or SSO token as 'Authorization: Bearer <token>'.");
        }

        var identity = await validator.ValidateAndConsumeAsync(header["Bearer ".Length..].Trim(), cancellationToken);
        var token = Ids.NewSecret(HubAuthenticationHandler.SessionPrefix);
        var now = clock.GetUtcNow();
        var expiresAt = now.Add(options.Value.SessionLifetime);
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO sessions (id, token_hash, tenant_id, agent_id, role, created_at, expires_at)
            VALUES (@id, @hash, @TenantId, @AgentId, @Role, @now, @expiresAt)
            """,
            new
            {
                id = Guid.NewGuid().ToString(), hash = Ids.Sha256(token), identity.TenantId, identity.AgentId, identity.Role,
                now = now.ToUnixTimeMilliseconds(), expiresAt = expiresAt.ToUnixTimeMilliseconds(),
            }, cancellationToken: cancellationToken));
        return new SessionResponse(token, expiresAt, identity.TenantId, identity.AgentId, identity.Role);
    }

    /// <summary>
    /// Revokes the session and closes its live connections, which hear <c>AuthRequired</c> first: this
    /// node's at once, every other node's through <see cref="SessionRevoked"/>.
    /// </summary>
    private static async Task<IResult> SignOutAsync(ClaimsPrincipal user, HubDatabase database, AgentConnections connections,
        ConfirmedPublisher publisher, TimeProvider clock, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var sessionId = user.FindFirstValue(HubClaims.SessionId)!;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE sessions SET revoked_at = @now WHERE id = @sessionId AND revoked_at IS NULL",
                new { sessionId, now = clock.NowMs() }, cancellationToken: cancellationToken));
        }

        // Locally first, so this node's connections close even while the bus is slow.
        await connections.CloseSessionAsync(sessionId, SignedOut);
        try
        {
            await publisher.PublishAsync(new SessionRevoked { TenantId = user.Tenant(), SessionId = sessionId, Reason = SignedOut }, cancellationToken);
        }
        catch (BusUnavailableException exception)
        {
            // The session is revoked already (a retry would be refused), so the sign-out stands; the
            // other nodes' connections of it close at its expiry instead.
            loggers.CreateLogger(typeof(SessionEndpoints)).LogWarning(exception,
                "Session {SessionId} is revoked, but other nodes were not told to close its connections", sessionId);
        }

        return Results.NoContent();
    }
}
