using Hub.Api.Demo;
using Hub.Api.Infrastructure;
using Hub.Api.Tenants;
using Hub.Store.Config;

namespace Hub.Api.Pages;

/// <summary>
/// Pages the hub serves for embedding say who may frame them, as seed 003 advises:
/// <c>Content-Security-Policy: frame-ancestors</c> from the account's <c>frame_ancestors</c>, and
/// <c>'self'</c> when the account has none. A browser then refuses to show the page in any other frame.
/// <c>/demo</c> belongs to the demo account; <c>/dashboard</c> to the account its URL names
/// (<c>account_id</c>, as a portal opens it), else the global configuration.
/// </summary>
internal static class FrameAncestors
{
    /// <summary>The dashboard loads only its own script and style, and talks only to its own origin.</summary>
    private const string DashboardPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; ";

    public static WebApplication UseFrameAncestors(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (path.StartsWithSegments("/demo") && context.RequestServices.GetService<DemoTenant>() is { } demo)
            {
                var configs = context.RequestServices.GetRequiredService<TenantConfigReader>();
                var config = await configs.ReadCachedAsync(demo.TenantId, context.RequestAborted);
                context.Response.Headers.ContentSecurityPolicy = Policy(config.Config);

                // Revalidate on every load: a cached page would keep an old policy after the account changed it.
                context.Response.Headers.CacheControl = "no-cache";
            }
            else if (path.StartsWithSegments("/dashboard"))
            {
                var policies = context.RequestServices.GetRequiredService<DashboardFramePolicies>();
                context.Response.Headers.ContentSecurityPolicy = DashboardPolicy + await policies.PolicyAsync(context.Request.Query["account_id"], context.RequestAborted);
            }

            await next(context);
        });
        return app;
    }

    /// <summary>
    /// The config validator admits only origins, <c>https://*.domain</c>, <c>'self'</c> and <c>'none'</c>, so
    /// they go in verbatim; a value stored before it refused control characters is left out, since a line
    /// feed cannot be in a header.
    /// </summary>
    public static string Policy(TenantConfig config)
    {
        var sources = config.FrameAncestors.Where(source => !source.Any(char.IsControl)).ToList();
        return "frame-ancestors " + (sources.Count == 0 ? "'self'" : string.Join(' ', sources));
    }
}
