using System.Security.Claims;

namespace Hub.Api.Auth;

/// <summary>What a request's credential says about its caller.</summary>
public static class HubClaims
{
    public const string Scheme = "Hub";
    public const string Kind = "hub:kind";
    public const string TenantId = "hub:tenant";
    public const string KeyId = "hub:key";
    public const string Scope = "hub:scope";
    public const string AgentId = "hub:agent";
    public const string SessionId = "hub:session";
    public const string Role = "hub:role";

    public const string ApiKeyKind = "api_key";
    public const string SessionKind = "session";

    public static string Tenant(this ClaimsPrincipal user) => user.FindFirstValue(TenantId) ?? throw new InvalidOperationException("No tenant claim.");

    public static bool IsSession(this ClaimsPrincipal user) => user.FindFirstValue(Kind) == SessionKind;

    public static bool HasScope(this ClaimsPrincipal user, string scope) =>
        user.HasClaim(Scope, Scopes.Admin) || user.HasClaim(Scope, scope);
}

public static class Scopes
{
    public const string Admin = "admin";
    public const string Config = "config";
    public const string Contacts = "contacts";
    public const string CallsRead = "calls:read";

    /// <summary>Changes to the call log: erasing a caller's number (API.md section 7).</summary>
    public const string CallsWrite = "calls:write";
    public const string Dial = "dial";
    public const string Tokens = "tokens";
    public const string Webhooks = "webhooks";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
        { Admin, Config, Contacts, CallsRead, CallsWrite, Dial, Tokens, Webhooks };
}

public static class Roles
{
    public const string Agent = "agent";
    public const string Analyst = "analyst";
}
