using Hub.Api.Agents;
using Hub.Api.ApiKeys;
using Hub.Api.Audit;
using Hub.Api.Auth;
using Hub.Api.Calls;
using Hub.Api.Commands;
using Hub.Api.Config;
using Hub.Api.Contacts;
using Hub.Api.Dashboard;
using Hub.Api.EventStream;
using Hub.Api.Ingest;
using Hub.Api.Pages;
using Hub.Api.Privacy;
using Hub.Api.RateLimits;
using Hub.Api.Sessions;
using Hub.Api.SigningKeys;
using Hub.Api.Tenants;
using Hub.Api.Webhooks;
using Hub.Store;
using Hub.ServiceDefaults;
using Microsoft.AspNetCore.Authentication;

namespace Hub.Api.Infrastructure;

internal static class HubApiExtensions
{
    public static IServiceCollection AddHubHttp(this IServiceCollection services)
    {
        // Credentials are allowed because SignalR's browser client negotiates with them; that is only
        // safe with an explicit list of origins (hub-wide plus every account's crm_origins), never a wildcard.
        services.AddCors();
        services.AddSingleton<CrmOrigins>();
        services.AddSingleton<DashboardFramePolicies>();
        services.AddSingleton<Microsoft.AspNetCore.Cors.Infrastructure.ICorsPolicyProvider, CrmCorsPolicyProvider>();
        services.AddProblemDetails();
        services.AddExceptionHandler<HubProblemExceptionHandler>();
        services.ConfigureHttpJsonOptions(options => HubJson.Configure(options.SerializerOptions));
        services.AddOpenApi();
        services.AddHostedService<Maintenance.StorePruning>();
        services.AddHostedService<Maintenance.CallRetention>();
        services.AddHubRateLimits();
        services.AddSingleton<AuditLog>();
        services.AddHubWebhooks();
        return services;
    }

    /// <summary>The Api's own endpoints: the agent hub, the REST API and OpenAPI document, the pages.</summary>
    public static WebApplication MapHubApi(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapHub<AgentHub>("/hubs/agent");
        app.MapTenantEndpoints();
        app.MapApiKeyEndpoints();
        app.MapSessionEndpoints();
        app.MapSigningKeyEndpoints();
        app.MapAgentEndpoints();
        app.MapCommandEndpoints();
        app.MapContactEndpoints();
        app.MapConfigEndpoints();
        app.MapCallEndpoints();
        app.MapPrivacyEndpoints();
        app.MapAuditEndpoints();
        app.MapEventStreamEndpoints();
        app.MapDashboardEndpoints();
        app.MapWebhookEndpoints();
        return app;
    }

    public static WebApplication UseHubHttp(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(async context =>
        {
            var response = context.HttpContext.Response;
            var code = response.StatusCode switch
            {
                404 => "not_found",
                405 => "method_not_allowed",
                415 => "unsupported_media_type",
                _ => "http_" + response.StatusCode,
            };
            await HubProblems.WriteAsync(context.HttpContext, response.StatusCode, code, $"The request failed with HTTP {response.StatusCode}.");
        });
        app.UseFrameAncestors();
        app.MapFrontEnds();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseWebSockets();
        app.UseCors();
        app.UseAuthentication();
        app.UseOriginEnforcement();
        app.UseRateLimiter();
        app.UseHubRequestBodyLimits();
        app.UseAuthorization();
        return app;
    }
}
