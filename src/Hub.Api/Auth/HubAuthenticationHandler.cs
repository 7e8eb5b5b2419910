using System.Security.Claims;
using System.Text.Encodings.Web;
using Hub.Api.Infrastructure;
using Hub.Api.RateLimits;
using Hub.Api.Tenants;
using Hub.Store;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Hub.Api.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer</c> API keys (<c>hubk_</c>) and session tokens (<c>hubs_</c>);
/// the agent hub also takes the session token as <c>access_token</c> in the query string, because
/// browsers cannot set headers on WebSocket requests. Both are looked up by hash on every request, so a
/// revoked key or session stops working at once, on every node. The prefix routes a token to its
/// table; the configured admin key (<c>Hub__AdminApiKey</c>) may have any form and is recognised in
/// memory first. A lookup that finds nothing spends the client IP's anonymous budget, and once that
/// is spent no token from that IP is looked up until the window ends (<c>429 rate_limited</c>).
/// </summary>
internal sealed class HubAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    CredentialLookup credentials,
    TenantBootstrap bootstrap,
    HubRequestLimiter limiter) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string ApiKeyPrefix = "hubk_";
    public const string SessionPrefix = "hubs_";

    /// <summary>A session's <c>expires_at</c> (Unix milliseconds), so the agent hub can close its connections then.</summary>
    public const string SessionExpiresAtClaim = "hub:session_expires_at";

    private static readonly object RetryAfterItem = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken();
        if (token is null)
        {
            return AuthenticateResult.NoResult();
        }

        // The configured admin key is known-good unless revoked, so it never waits on the budget.
        if (bootstrap.IsConfiguredAdminKey(token))
        {
            return ChargeIfFailed(await AuthenticateApiKeyAsync(token));
        }

        var isApiKey = token.StartsWith(ApiKeyPrefix, StringComparison.Ordinal);
        if (!isApiKey && !token.StartsWith(SessionPrefix, StringComparison.Ordinal))
        {
            // Nothing else is in the store (embed and SSO tokens are checked by the exchange itself).
            return AuthenticateResult.Fail("invalid_token");
        }

        if (!limiter.MayLookUp(Context, out var retryAfterSeconds))
        {
            Context.Items[RetryAfterItem] = retryAfterSeconds;
            return AuthenticateResult.Fail("rate_limited");
        }

        return ChargeIfFailed(isApiKey ? await AuthenticateApiKeyAsync(token) : await AuthenticateSessionAsync(token));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // On /api/v1 the rate limiter refuses such a request first; elsewhere (the agent hub) this does.
        if (Context.Items[RetryAfterItem] is int retryAfter)
        {
            Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return HubProblems.WriteAsync(Context, StatusCodes.Status429TooManyRequests, "rate_limited",
                $"Too many failed sign-ins from this client; retry after {retryAfter} s.");
        }

        return HubProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "unauthorized",
            "Send a valid API key or session token as 'Authorization: Bearer <token>'.");
    }

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

    private AuthenticateResult ChargeIfFailed(AuthenticateResult result)
    {
        if (!result.Succeeded)
        {
            limiter.ChargeFailedLookup(Context);
        }

        return result;
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
