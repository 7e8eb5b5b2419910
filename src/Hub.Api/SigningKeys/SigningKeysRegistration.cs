using Hub.Api.SigningKeys;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;

// In Infrastructure's namespace, next to the other Add…/Map… extensions HubApiExtensions calls.
namespace Hub.Api.Infrastructure;

internal static class SigningKeysRegistration
{
    /// <summary>
    /// Embed signing keys and the Data Protection they are encrypted with, its key ring in the store.
    /// Call before anything else registers Data Protection (<c>AddAuthentication</c> does): hosted
    /// services start in registration order, and <see cref="KeyRingBootstrap"/> must start before
    /// Data Protection's own one.
    /// </summary>
    public static IServiceCollection AddHubSigningKeys(this IServiceCollection services)
    {
        services.AddSingleton<StoreXmlRepository>();
        services.AddHostedService<KeyRingBootstrap>();
        services.AddDataProtection().SetApplicationName("Hub");
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, provider) =>
            options.XmlRepository = provider.GetRequiredService<StoreXmlRepository>());
        services.AddSingleton<EmbedSigningKeys>();
        return services;
    }

    public static IEndpointRouteBuilder MapSigningKeyEndpoints(this IEndpointRouteBuilder app)
    {
        SigningKeyEndpoints.Map(app);
        return app;
    }
}
