using System.Security.Claims;
using System.Text.Encodings.Web;
using Hub.Api.Infrastructure;
using Hub.Store;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Hub.Api.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer</c> API keys (<c>hubk_</c>) and session tokens (<c>hubs_</c>);
/// the agent hub also takes the session token as <c>access_token</c> in the query string, because
/// browsers cannot set headers on WebSocket requests. Both are looked up by hash on every request, so a
/// revoked key or session stops working at once, on every node.
/// </summary>
internal sealed class HubAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    CredentialLookup credentials) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string ApiKeyPrefix = "hubk_";
    public const string SessionPrefix = "hubs_";

    /// <summary>A session's <c>expires_at</c> (Unix milliseconds), so the agent hub can close its connections then.</summary>
    public const string SessionExpiresAtClaim = "hub:session_expires_at";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken();
        if (token is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (token.StartsWith(ApiKeyPrefix, StringComparison.Ordinal))
        {
            return await AuthenticateApiKeyAsync(token);
        }

        if (token.StartsWith(SessionPrefix, StringComparison.Ordinal))
        {
            return await AuthenticateSessionAsync(token);
        }

        return AuthenticateResult.Fail("invalid_token");
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        HubProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "unauthorized",
            "Send a valid API key or session token as 'Authorization: Bearer <token>'.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        HubProblems.WriteAsync(Context, StatusCodes.Status403Forbidden, "insufficient_scope",
            "This credential does not have the scope this operation needs.");

    private string? ReadToken()
    {
        string? header = Request.Headers.Authorization;
        if (header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        if (Request.Path.StartsWithSegments("/hubs") && Request.Query.TryGetValue("access_token", out var queryToken))
        {
            return queryToken.ToString();
        }

        return null;
    }

    private async Task<AuthenticateResult> AuthenticateApiKeyAsync(string token)
    {
        if (await credentials.FindApiKeyAsync(Ids.Sha256(token), Context.RequestAborted) is not { } found)
        {
            return AuthenticateResult.Fail("invalid_token");
        }

        var claims = new List<Claim>
        {
            new(HubClaims.Kind, HubClaims.ApiKeyKind),
            new(HubClaims.TenantId, found.TenantId),
            new(HubClaims.KeyId, found.Id),
        };
        claims.AddRange(found.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(scope => new Claim(HubClaims.Scope, scope)));
        return Success(claims);
    }

    private async Task<AuthenticateResult> AuthenticateSessionAsync(string token)
    {
        if (await credentials.FindSessionAsync(Ids.Sha256(token), Context.RequestAborted) is not { } found)
        {
            return AuthenticateResult.Fail("invalid_token");
        }

        return Success(
        [
            new(HubClaims.Kind, HubClaims.SessionKind),
            new(HubClaims.TenantId, found.TenantId),
            new(HubClaims.SessionId, found.Id),
            new(HubClaims.AgentId, found.AgentId),
            new(HubClaims.Role, found.Role),
            new(SessionExpiresAtClaim, found.ExpiresAt.ToString(System.Globalization.CultureInfo.InvariantCulture), ClaimValueTypes.Integer64),
            new(ClaimTypes.NameIdentifier, $"{found.TenantId}/{found.AgentId}"),
        ]);
    }

    private AuthenticateResult Success(IEnumerable<Claim> claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(
            new ClaimsPrincipal(new ClaimsIdentity(claims, HubClaims.Scheme)), HubClaims.Scheme));
}
