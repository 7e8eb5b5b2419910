using Hub.Api.Infrastructure;
using Hub.Api.Sessions;
using Hub.Api.SigningKeys;
using Hub.Api.Tenants;
using Microsoft.AspNetCore.Authentication;

namespace Hub.Api.Auth;

internal static class AuthRegistration
{
    /// <summary>API keys and sessions (opaque, looked up by hash), embed tokens, scopes and the master tenant.</summary>
    public static IServiceCollection AddHubAuthentication(this IServiceCollection services)
    {
        services.AddHubSigningKeys();
        services.AddSingleton<CredentialLookup>();
        services.AddAuthentication(HubClaims.Scheme)
            .AddScheme<AuthenticationSchemeOptions, HubAuthenticationHandler>(HubClaims.Scheme, null);
        services.AddAuthorizationBuilder().AddHubPolicies();
        services.AddSingleton<TenantBootstrap>();
        services.AddHostedService(provider => provider.GetRequiredService<TenantBootstrap>());
        services.AddSingleton<EmbedTokenKeyStore>();
        services.AddSingleton<HubSigningKey>();
        services.AddSingleton<HubTokenKeyLookup>();
        services.AddSingleton<EmbedTokenValidator>();
        return services;
    }
}
