using Hub.Api.SigningKeys;
using Hub.Store.DataProtection;

// In Infrastructure's namespace, next to the other Add…/Map… extensions HubApiExtensions calls.
namespace Hub.Api.SigningKeys;

internal static class SigningKeysRegistration
{
    /// <summary>
    /// Embed signing keys. Their secrets are encrypted with the hub's Data Protection, which Program registers
    /// first (see <see cref="DataProtectionRegistration.AddHubDataProtection"/>).
    /// </summary>
    public static IServiceCollection AddHubSigningKeys(this IServiceCollection services)
    {
        services.AddSingleton<EmbedSigningKeys>();
        return services;
    }

    public static IEndpointRouteBuilder MapSigningKeyEndpoints(this IEndpointRouteBuilder app)
    {
        SigningKeyEndpoints.Map(app);
        return app;
    }
}
