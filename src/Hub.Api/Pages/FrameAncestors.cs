using Hub.Api.Demo;
using Hub.Store.Config;

namespace Hub.Api.Pages;

/// <summary>
/// Pages the hub serves for embedding say who may frame them, as seed 003 advises:
/// <c>Content-Security-Policy: frame-ancestors</c> from the account's <c>frame_ancestors</c>, and
/// <c>'self'</c> when the account has none. A browser then refuses to show the page in any other frame.
/// </summary>
internal static class FrameAncestors
{
    public static WebApplication UseFrameAncestors(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/demo") && context.RequestServices.GetService<DemoTenant>() is { } demo)
            {
                var configs = context.RequestServices.GetRequiredService<TenantConfigReader>();
                var config = await configs.ReadCachedAsync(demo.TenantId, context.RequestAborted);
                context.Response.Headers.ContentSecurityPolicy = Policy(config.Config);

                // Revalidate on every load: a cached page would keep an old policy after the account changed it.
                context.Response.Headers.CacheControl = "no-cache";
            }

            await next(context);
        });
        return app;
    }

    /// <summary>The config validator admits only origins, <c>https://*.domain</c>, <c>'self'</c> and <c>'none'</c>, so they go in verbatim.</summary>
    public static string Policy(TenantConfig config) =>
        "frame-ancestors " + (config.FrameAncestors.Count == 0 ? "'self'" : string.Join(' ', config.FrameAncestors));
}
