using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Hub.ServiceDefaults;

/// <summary>
/// OpenTelemetry for every Hub process: the hub's own meters and activity sources (every name under <c>Hub.</c>),
/// MassTransit's, Npgsql's, ASP.NET Core's (SignalR hub invocations included), outgoing HTTP and the runtime.
/// Metrics are served in Prometheus text at <c>/metrics</c> (unless <c>Hub__Metrics__Enabled=false</c>); metrics,
/// traces and logs go to an OTLP collector when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Spans are recorded only
/// then, or with <c>Hub__Tracing__Enabled=true</c> (for an exporter added in code).
/// </summary>
public static class HubTelemetry
{
    /// <summary>Every meter and activity source of the hub's own code is named <c>Hub.&lt;Concern&gt;</c>.</summary>
    public const string HubNames = "Hub.*";

    public const string MetricsPath = "/metrics";

    private const string SignalRServerSource = "Microsoft.AspNetCore.SignalR.Server";
    private const string MassTransitName = "MassTransit";

    public static bool MetricsEnabled(IConfiguration configuration) => configuration.GetValue("Hub:Metrics:Enabled", true);

    public static WebApplicationBuilder AddHubTelemetry(this WebApplicationBuilder builder)
    {
        var metricsEnabled = MetricsEnabled(builder.Configuration);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(HubNames, MassTransitName)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation();
                if (metricsEnabled)
                {
                    // Every scrape reads the instruments afresh: Prometheus scrapes seldom, and a cached answer would hide a change.
                    metrics.AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0);
                }
            });
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        // Spans cost every event a few allocations even when nobody reads them: sampled only when they go somewhere.
        // The sources are listened to either way: MassTransit records its metrics only while someone listens to it.
        var traced = builder.Configuration.GetValue("Hub:Tracing:Enabled", otlp);
        telemetry.WithTracing(tracing =>
        {
            tracing.AddSource(HubNames, MassTransitName, SignalRServerSource)
                // Probes would be most of the traces and say nothing.
                .AddAspNetCoreInstrumentation(options => options.Filter = context =>
                    !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments(MetricsPath))
                .AddHttpClientInstrumentation()
                .AddNpgsql();
            if (!traced)
            {
                tracing.SetSampler(new AlwaysOffSampler());
            }
        });

        // Log lines carry the trace and span ids of the work they were written in.
        builder.Logging.Configure(options => options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (otlp)
        {
            telemetry.WithLogging().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary><c>GET /metrics</c>: Prometheus text of this process's metrics.</summary>
    public static WebApplication MapHubMetrics(this WebApplication app)
    {
        if (MetricsEnabled(app.Configuration))
        {
            app.MapPrometheusScrapingEndpoint(MetricsPath);
        }

        return app;
    }
}
