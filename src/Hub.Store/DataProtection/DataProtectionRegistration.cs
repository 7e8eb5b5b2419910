using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Hub.Store.DataProtection;

public static class DataProtectionRegistration
{
    /// <summary>
    /// ASP.NET Core Data Protection over the key ring in the store, so every process of a deployment
    /// (Api nodes encrypting secrets, workers decrypting them) shares the same keys, each key encrypted with
    /// the certificate of <c>Hub:DataProtection</c> (created in the data directory when absent).
    /// <c>AddHubStore</c> calls it, so it comes before anything else registers Data Protection
    /// (<c>AddAuthentication</c> does): hosted services start in registration order, and
    /// <see cref="KeyRingBootstrap"/> must start after the migrations and before Data Protection's own one
    /// and anything that encrypts. Calling it again is harmless.
    /// </summary>
    /// <remarks>
    /// The certificate is read here, not when the container is built, because Data Protection's
    /// <c>ProtectKeysWithCertificate</c> and <c>UnprotectKeysWithAnyCertificate</c> take the certificate itself.
    /// </remarks>
    public static IServiceCollection AddHubDataProtection(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(service => service.ServiceType == typeof(StoreXmlRepository)))
        {
            return services;
        }

        var certificates = KeyRingCertificates.Load(configuration.GetSection(HubSettings.Section).Get<HubSettings>() ?? new HubSettings());
        services.AddSingleton(certificates);
        services.TryAddSingleton<StoreXmlRepository>();
        services.TryAddSingleton<PlaintextKeyProtection>();
        services.TryAddSingleton<KeyRingBootstrap>();
        services.AddHostedService(provider => provider.GetRequiredService<KeyRingBootstrap>());
        services.AddDataProtection().SetApplicationName("Hub")
            .ProtectKeysWithCertificate(certificates.Current)
            .UnprotectKeysWithAnyCertificate([.. certificates.Previous]);
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, provider) =>
            options.XmlRepository = provider.GetRequiredService<StoreXmlRepository>());
        return services;
    }
}
