using Hub.Api.Infrastructure;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Hub.Api.Pages;

/// <summary>
/// The browser front ends the build bundles from src/relay and src/dashboard (see Hub.Api.csproj):
/// <c>/relay/hub-relay.js</c> (classic script, sets <c>HubRelay</c>) and <c>/relay/hub-relay.mjs</c>
/// (ES module) for CRM pages; <c>/dashboard/</c> for analysts.
/// </summary>
internal static class FrontEnds
{
    public static WebApplication MapFrontEnds(this WebApplication app)
    {
        app.MapFrontEnd("relay", "hub-relay.js", "relay_not_built", "The browser relay", response =>
        {
            // CRM pages on other origins load it; a short cache keeps upgrades quick to arrive.
            response.Headers.AccessControlAllowOrigin = "*";
            response.Headers.CacheControl = "public, max-age=300";
        });

        // The dashboard's page carries its frame-ancestors policy (FrameAncestors.cs), revalidated on every load.
        app.MapFrontEnd("dashboard", "dashboard.js", "dashboard_not_built", "The dashboard",
            response => response.Headers.CacheControl = "no-cache");
        return app;
    }

    private static void MapFrontEnd(this WebApplication app, string name, string bundle, string notBuiltCode, string what,
        Action<HttpResponse> prepareResponse)
    {
        // The published/built output has it in a folder of its name; a host running from the source tree
        // (tests, tools) finds it where the front end's own build left it.
        var folder = new[]
        {
            Path.Combine(AppContext.BaseDirectory, name),
            Path.GetFullPath(Path.Combine(app.Environment.ContentRootPath, "..", name, "dist")),
        }.FirstOrDefault(candidate => File.Exists(Path.Combine(candidate, bundle)));
        var requestPath = "/" + name;
        if (folder is null)
        {
            app.MapGet(requestPath + "/{**file}", () => HubProblems.Result(StatusCodes.Status404NotFound, notBuiltCode,
                $"{what} was not built: install Node.js and npm, then run 'dotnet build' again."));
            return;
        }

        var files = new PhysicalFileProvider(folder);
        // /dashboard redirects to /dashboard/ (query kept) and serves index.html there.
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = requestPath });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = requestPath,
            ContentTypeProvider = new FileExtensionContentTypeProvider { Mappings = { [".mjs"] = "text/javascript" } },
            OnPrepareResponse = context => prepareResponse(context.Context.Response),
        });
    }
}
