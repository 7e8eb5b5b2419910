using Hub.Api.Agents;
using Hub.Api.Auth;
using Hub.Api.Commands;
using Hub.Api.Infrastructure;
using Hub.Api.Sessions;
using Hub.Store;
using Hub.Store.Config;
using Hub.Store.Contacts;
using Hub.ServiceDefaults;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Hub.Api.Demo;

public sealed record DemoConfig(string HubUrl, string WebphoneOrigin, string WebphoneUrl, string TenantId, string AgentId);

public sealed record DemoDialRequest(string? Number);

/// <summary>
/// <c>/demo</c>: a CRM page with the webphone simulator on another origin, and a stand-in for the CRM
/// backend that a real integration would run itself (it mints the agent's embed token and asks for
/// click-to-call with the tenant's authority). On only where <see cref="IsEnabled"/> says so.
/// </summary>
internal static class DemoEndpoints
{
    public static bool IsEnabled(IConfiguration configuration) =>
        HubTransport.ReadSettings(configuration).Demo.Enabled ?? !HubTransport.IsRabbitMq(configuration);

    /// <summary>Adds the simulator's listening address next to the hub's own (port + 1 unless configured).</summary>
    public static WebApplicationBuilder AddHubDemo(this WebApplicationBuilder builder)
    {
        if (!IsEnabled(builder.Configuration))
        {
            return builder;
        }

        builder.Services.AddSingleton<DemoTenant>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<DemoTenant>());

        var urls = (builder.Configuration["urls"] ?? "http://localhost:5000").Split(';', StringSplitOptions.RemoveEmptyEntries);
        var webphoneUrl = HubTransport.ReadSettings(builder.Configuration).Demo.WebphoneUrl ?? NextPort(urls[0]);
        if (webphoneUrl is not null && !urls.Contains(webphoneUrl, StringComparer.OrdinalIgnoreCase))
        {
            builder.WebHost.UseUrls([.. urls, webphoneUrl]);
        }

        builder.Services.Configure<DemoListener>(listener => listener.Url = webphoneUrl);
        return builder;
    }

    public static WebApplication MapHubDemo(this WebApplication app)
    {
        if (!IsEnabled(app.Configuration))
        {
            return app;
        }

        // /demo itself is static: UseDefaultFiles redirects it to /demo/ and serves index.html.
        var demo = app.MapGroup("/demo/api").ExcludeFromDescription().AllowAnonymous();
        demo.MapGet("/config", Config);
        demo.MapPost("/token", TokenAsync);
        demo.MapPost("/analyst-token", AnalystTokenAsync);
        demo.MapGet("/contacts", ContactsAsync);
        demo.MapPost("/dial", DialAsync);
        return app;
    }

    private static DemoConfig Config(HttpContext context, DemoTenant tenant, Microsoft.Extensions.Options.IOptions<DemoListener> listener)
    {
        var hub = $"{context.Request.Scheme}://{context.Request.Host}";
        // The simulator is reached on the host the browser used, at the simulator's own port: another origin.
        var port = PortOf(listener.Value.Url) ?? context.Request.Host.Port ?? 80;
        var webphoneOrigin = $"{context.Request.Scheme}://{context.Request.Host.Host}:{port}";
        return new DemoConfig(hub, webphoneOrigin, $"{webphoneOrigin}/webphone-simulator/?parent_origin={Uri.EscapeDataString(hub)}",
            tenant.TenantId, DemoTenant.AgentId);
    }

    private static async Task<IResult> TokenAsync(DemoTenant tenant, HubSigningKey signingKey, CancellationToken cancellationToken)
    {
        var (token, _) = await signingKey.MintEmbedTokenAsync(tenant.TenantId, DemoTenant.AgentId, 300, cancellationToken);
        return Results.Text(token);
    }

    /// <summary>What the demo's "Calls dashboard" link opens /dashboard with: an analyst of the demo account.</summary>
    private static async Task<IResult> AnalystTokenAsync(DemoTenant tenant, HubSigningKey signingKey, CancellationToken cancellationToken)
    {
        var (token, _) = await signingKey.MintEmbedTokenAsync(tenant.TenantId, "demo-analyst", 120, cancellationToken, Roles.Analyst);
        return Results.Text(token);
    }

    private static Task<IReadOnlyList<Contact>> ContactsAsync(DemoTenant tenant, ContactDirectory directory, CancellationToken cancellationToken) =>
        directory.ListAsync(tenant.TenantId, cancellationToken);

    private static Task<IResult> DialAsync(DemoDialRequest request, DemoTenant tenant, AgentPresence presence, CommandStore commands,
        TenantConfigReader configs, CancellationToken cancellationToken) =>
        CommandEndpoints.SendAsync(DemoTenant.AgentId, "call", System.Text.Json.JsonSerializer.SerializeToElement(new { number = request.Number }),
            new WorkingAccount(tenant.TenantId, tenant.TenantId), presence, commands, configs, cancellationToken);

    private static string? NextPort(string url) =>
        PortOf(url) is { } port and > 0 ? url.Replace($":{port}", $":{port + 1}", StringComparison.Ordinal) : null;

    /// <summary>The port of a Kestrel address, which may use <c>*</c> or <c>+</c> for the host.</summary>
    private static int? PortOf(string? url) =>
        url is not null && Uri.TryCreate(url.Replace('*', 'h').Replace('+', 'h'), UriKind.Absolute, out var uri) ? uri.Port : null;
}

/// <summary>Where the webphone simulator listens, for the page's config.</summary>
internal sealed class DemoListener
{
    public string? Url { get; set; }
}
