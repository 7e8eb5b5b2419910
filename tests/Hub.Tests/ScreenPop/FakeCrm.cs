using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Hub.Tests.ScreenPop;

/// <summary>One request as the fake CRM received it.</summary>
public sealed record CrmRequest(string Path, string RawQuery, IReadOnlyDictionary<string, string> Query, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// A real HTTP server on 127.0.0.1 playing a CRM's lookup endpoint (<c>/lookup</c>). Each test sets
/// <see cref="Respond"/>; every request is recorded before it is answered.
/// </summary>
public sealed class FakeCrm : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<CrmRequest> _requests = new();
    private readonly Channel<CrmRequest> _arrivals = Channel.CreateUnbounded<CrmRequest>();

    private FakeCrm(WebApplication app) => _app = app;

    public Func<HttpContext, Task> Respond { get; set; } = Status(404);

    public Uri BaseUrl => new(_app.Urls.Single());

    /// <summary>The lookup URL to configure.</summary>
    public string Url => new Uri(BaseUrl, "/lookup").ToString();

    public IReadOnlyList<CrmRequest> Requests => _requests.ToArray();

    public int RequestCount => _requests.Count;

    /// <summary>Requests in the order they arrived, to wait for one without sleeping.</summary>
    public ChannelReader<CrmRequest> Arrivals => _arrivals.Reader;

    public static async Task<FakeCrm> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var crm = new FakeCrm(app);
        app.Run(async context =>
        {
            var request = new CrmRequest(
                context.Request.Path,
                context.Request.QueryString.Value ?? "",
                context.Request.Query.ToDictionary(pair => pair.Key, pair => pair.Value.ToString(), StringComparer.Ordinal),
                context.Request.Headers.ToDictionary(pair => pair.Key, pair => pair.Value.ToString(), StringComparer.OrdinalIgnoreCase));
            crm._requests.Enqueue(request);
            crm._arrivals.Writer.TryWrite(request);
            await crm.Respond(context);
        });
        await app.StartAsync();
        return crm;
    }

    public static Func<HttpContext, Task> Status(int status) => context =>
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    };

    public static Func<HttpContext, Task> Json(object body) => context =>
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    };

    public static Func<HttpContext, Task> Text(string body) => context =>
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body);
    };

    /// <summary>Answers only when the client gives up (or after a minute).</summary>
    public static Func<HttpContext, Task> Hang() => async context =>
    {
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(1), context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The hub stopped waiting, as it should.
        }
    };

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stopping.Token);
        await _app.DisposeAsync();
    }
}
