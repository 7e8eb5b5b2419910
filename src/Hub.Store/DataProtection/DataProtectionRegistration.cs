using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Hub.Store.DataProtection;

public static class DataProtectionRegistration
{
    /// <summary>
    /// ASP.NET Core Data Protection over the key ring in the store, so every process of a deployment
    /// (Api nodes encrypting secrets, workers decrypting them) shares the same keys. Call before anything
    /// else registers Data Protection (<c>AddAuthentication</c> does): hosted services start in
    /// registration order, and <see cref="KeyRingBootstrap"/> must start before Data Protection's own
    /// one. Calling it again is harmless.
    /// </summary>
    public static IServiceCollection AddHubDataProtection(this IServiceCollection services)
    {
        if (services.Any(service => service.ServiceType == typeof(StoreXmlRepository)))
        {
            return services;
        }

        services.TryAddSingleton<StoreXmlRepository>();
        services.AddHostedService<KeyRingBootstrap>();
        services.AddDataProtection().SetApplicationName("Hub");
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, provider) =>
            options.XmlRepository = provider.GetRequiredService<StoreXmlRepository>());
        return services;
    }
}
