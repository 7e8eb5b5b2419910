using System.Diagnostics;
using Hub.Tests.Support;
using OpenTelemetry.Trace;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Telemetry;

/// <summary>One trace follows an event from the agent hub's <c>Publish</c> through the bus and the worker to the screen-pop push.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TraceTests
{
    [Fact]
    public async Task The_screen_pop_push_is_in_the_trace_of_the_relays_publish()
    {
        var spans = new List<Activity>();
        // Without an OTLP endpoint the hub records no spans unless told to; this test adds its own exporter.
        using var factory = new HubApiFactory(new HubTopology(
            Settings: new Dictionary<string, string> { ["Hub:Tracing:Enabled"] = "true" },
            Services: services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans))));
        var (_, crm) = await CreateTenantAsync(factory, "Acme");
        await using var agent = await ConnectAgentAsync(factory, crm, "agent-7");
        var pops = agent.Subscribe("ScreenPop");

        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-1", "0912345678")));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await pops.ReadAsync(deadline.Token);

        // The push's span ends just after the agent has the pop; the exporter has it once it ended.
        var push = await EventuallyAsync(() => Snapshot(spans).FirstOrDefault(span => span.DisplayName == "screen-pop push"));
        var trace = Snapshot(spans).Where(span => span.TraceId == push.TraceId).ToList();
        var root = Assert.Single(trace, span => span.ParentSpanId == default);
        Assert.Equal("Microsoft.AspNetCore.SignalR.Server", root.Source.Name);
        Assert.Contains(trace, span => span.Source.Name == "Hub.Api" && span.DisplayName == "publish incoming_call");
        // The bus carried it: MassTransit's consume spans of the screen-pop worker and of this node's push consumer.
        Assert.Contains(trace, span => span.Source.Name == "MassTransit" && span.Kind == ActivityKind.Consumer
            && span.Tags.Any(tag => tag.Value is string value && value.Contains("ScreenPopConsumer", StringComparison.Ordinal)));
        Assert.Contains(trace, span => span.Source.Name == "MassTransit" && span.Kind == ActivityKind.Consumer
            && span.Tags.Any(tag => tag.Value is string value && value.Contains("ShowScreenPopConsumer", StringComparison.Ordinal)));
        // Every span of the chain hangs from one of the trace's own spans.
        var ids = trace.Select(span => span.SpanId).ToHashSet();
        Assert.All(trace.Where(span => span != root), span => Assert.Contains(span.ParentSpanId, ids));
    }

    /// <summary>The exporter adds from the threads that end spans; ToArray copies what is there without enumerating.</summary>
    private static Activity[] Snapshot(List<Activity> spans) => spans.ToArray();

    /// <summary>Spans arrive as they end, on whichever thread ended them; a short poll with a deadline.</summary>
    private static async Task<Activity> EventuallyAsync(Func<Activity?> find)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (find() is { } found)
            {
                return found;
            }

            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "The screen-pop push span was not exported within 10 s.");
            await Task.Delay(20);
        }
    }
}
