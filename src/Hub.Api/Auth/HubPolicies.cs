namespace Hub.Api.Auth;

/// <summary>Authorization policies by name; endpoints say <c>.RequireAuthorization(HubPolicies.Scope(Scopes.Dial))</c>.</summary>
public static class HubPolicies
{
    public const string AgentSession = "agent-session";
    public const string AnySession = "any-session";
    public const string CallsReader = "calls-reader";

    public static string Scope(string scope) => "scope:" + scope;

    public static void AddHubPolicies(this Microsoft.AspNetCore.Authorization.AuthorizationBuilder policies)
    {
        foreach (var scope in Scopes.All)
        {
            policies.AddPolicy(Scope(scope), policy => policy.RequireAuthenticatedUser()
                .RequireAssertion(context => !context.User.IsSession() && context.User.HasScope(scope)));
        }

        policies.AddPolicy(AgentSession, policy => policy.RequireAuthenticatedUser()
            .RequireClaim(HubClaims.Kind, HubClaims.SessionKind)
            .RequireClaim(HubClaims.Role, Roles.Agent));
        policies.AddPolicy(AnySession, policy => policy.RequireAuthenticatedUser()
            .RequireClaim(HubClaims.Kind, HubClaims.SessionKind));
        policies.AddPolicy(CallsReader, policy => policy.RequireAuthenticatedUser()
            .RequireAssertion(context => context.User.IsSession()
                ? context.User.HasClaim(HubClaims.Role, Roles.Analyst)
                : context.User.HasScope(Scopes.CallsRead)));
    }
}
