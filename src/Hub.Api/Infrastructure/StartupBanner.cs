using Hub.Api.Tenants;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Hub.Api.Infrastructure;

internal static class StartupBanner
{
    /// <summary>Once listening: where the hub is, and (at first start only) its admin key.</summary>
    public static WebApplication PrintStartupBanner(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var bootstrap = app.Services.GetRequiredService<TenantBootstrap>();
            var url = addresses.FirstOrDefault() ?? "(no HTTP address)";
            Console.WriteLine();
            Console.WriteLine($"  Hub is listening on {string.Join(", ", addresses)}");
            Console.WriteLine($"  Health:    {url}/health/ready");
            Console.WriteLine($"  OpenAPI:   {url}/openapi/v1.json");
            Console.WriteLine($"  Dashboard: {url}/dashboard   (analysts: calls, charts, CSV export)");
            if (app.Services.GetService<Demo.DemoTenant>() is not null)
            {
                Console.WriteLine($"  Demo:      {url}/demo   (a CRM page with the webphone simulator: ring, answer, click-to-call)");
            }

            Console.WriteLine($"  Master tenant: {bootstrap.MasterTenantId}");
            Console.WriteLine(bootstrap switch
            {
                { NewAdminKey: { } key } => $"  Admin API key (shown once, kept in {bootstrap.AdminKeyFile}):\n    {key}",
                { AdminKeyRevoked: true, AdminKeyConfigured: true } => "  Admin API key: REVOKED; give Hub__AdminApiKey a new value and restart",
                { AdminKeyRevoked: true } => $"  Admin API key: REVOKED; run 'Hub.Api {Auth.AdminKeyCommand.Name}' for a new one",
                { AdminKeyConfigured: true } => "  Admin API key: configured (Hub__AdminApiKey)",
                _ => $"  Admin API key: kept in {bootstrap.AdminKeyFile} (rotate: 'Hub.Api {Auth.AdminKeyCommand.Name}')",
            });
            Console.WriteLine();
        });
        return app;
    }
}
