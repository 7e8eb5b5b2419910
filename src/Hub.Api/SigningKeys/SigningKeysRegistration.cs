using Hub.Api.SigningKeys;
using Hub.Store.DataProtection;

// In Infrastructure's namespace, next to the other Add…/Map… extensions HubApiExtensions calls.
namespace Hub.Api.Infrastructure;

internal static class SigningKeysRegistration
{
    /// <summary>
    /// Embed signing keys and the Data Protection they are encrypted with, its key ring in the store.
    /// Call before anything else registers Data Protection (see <see cref="DataProtectionRegistration.AddHubDataProtection"/>).
    /// </summary>
    public static IServiceCollection AddHubSigningKeys(this IServiceCollection services)
    {
        services.AddHubDataProtection();
        services.AddSingleton<EmbedSigningKeys>();
        return services;
    }

    public static IEndpointRouteBuilder MapSigningKeyEndpoints(this IEndpointRouteBuilder app)
    {
        SigningKeyEndpoints.Map(app);
        return app;
    }
}
