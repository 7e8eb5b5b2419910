using Hub.Api.Infrastructure;
using Microsoft.Extensions.FileProviders;

namespace Hub.Api.Pages;

internal static class RelayEndpoints
{
    /// <summary>
    /// <c>/relay/hub-relay.js</c> (classic script, sets <c>HubRelay</c>) and <c>/relay/hub-relay.mjs</c>
    /// (ES module), built from src/relay into the output folder by the build.
    /// </summary>
    public static WebApplication MapRelay(this WebApplication app)
    {
        // The published/built output has it in relay/; a host running from the source tree (tests,
        // tools) finds the bundle where the relay's own build left it.
        var folder = new[]
        {
            Path.Combine(AppContext.BaseDirectory, "relay"),
            Path.GetFullPath(Path.Combine(app.Environment.ContentRootPath, "..", "relay", "dist")),
        }.FirstOrDefault(candidate => File.Exists(Path.Combine(candidate, "hub-relay.js")));
        if (folder is not null)
        {
            app.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = new PhysicalFileProvider(folder),
                RequestPath = "/relay",
                ContentTypeProvider = new Microsoft.AspNetCore.StaticFiles.FileExtensionContentTypeProvider { Mappings = { [".mjs"] = "text/javascript" } },
                OnPrepareResponse = context =>
                {
                    // CRM pages on other origins load it; a short cache keeps upgrades quick to arrive.
                    context.Context.Response.Headers.AccessControlAllowOrigin = "*";
                    context.Context.Response.Headers.CacheControl = "public, max-age=300";
                },
            });
        }
        else
        {
            app.MapGet("/relay/{**file}", () => HubProblems.Result(StatusCodes.Status404NotFound, "relay_not_built",
                "The browser relay was not built: install Node.js and npm, then run 'dotnet build' again."));
        }

        return app;
    }
}
