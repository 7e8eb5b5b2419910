using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Telemetry;

/// <summary><c>GET /metrics</c> (API.md section 7): Prometheus text with the hub's own metric families, moving as events flow.</summary>
[Collection(TelemetryCollection.Name)]
public sealed partial class MetricsTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task An_accepted_event_moves_the_ingest_counter_and_the_pop_latency_and_a_rejected_one_its_own()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        var pops = agent.Subscribe("ScreenPop");
        using var scraper = _factory.CreateClient();
        var before = await ScrapeAsync(scraper);

        var eventId = Guid.NewGuid();
        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-1", "0912345678"), eventId));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await pops.ReadAsync(deadline.Token);
        await _factory.ConsumedAsync("hub-events", eventId);
        await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => agent.InvokeAsync("Publish", Envelope("incoming_call", new { })));
        var after = await ScrapeAsync(scraper);

        Assert.Equal(1, Value(after, "hub_ingest_events_total", "type=\"incoming_call\"", "outcome=\"accepted\"")
            - Value(before, "hub_ingest_events_total", "type=\"incoming_call\"", "outcome=\"accepted\""));
        Assert.Equal(1, Value(after, "hub_ingest_events_total", "type=\"incoming_call\"", "outcome=\"rejected\"")
            - Value(before, "hub_ingest_events_total", "type=\"incoming_call\"", "outcome=\"rejected\""));
        Assert.Equal(1, Value(after, "hub_screen_pop_latency_seconds_count") - Value(before, "hub_screen_pop_latency_seconds_count"));
        Assert.True(Value(after, "hub_ingest_publish_duration_seconds_count") > Value(before, "hub_ingest_publish_duration_seconds_count"));
        Assert.True(Value(after, "hub_events_batch_size_count") > Value(before, "hub_events_batch_size_count"), "the consumer's batches");
        Assert.Equal(1, Value(after, "hub_agents_connections"));
        // The libraries' own instruments come along. (MassTransit's meter is created once per process, by the first host
        // that starts a bus, so it is checked on real processes: ProductionMetricsTests.)
        Assert.Contains("http_server_request_duration_seconds", Families(after));
        Assert.Contains("signalr_server_active_connections", Families(after));
    }

    [Fact]
    public async Task Labels_stay_bounded_whatever_types_the_relay_sends()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        using var scraper = _factory.CreateClient();

        await agent.InvokeAsync("Publish", Envelope("x_custom_type_" + Guid.NewGuid().ToString("N"), new { anything = 1 }));
        var text = await ScrapeAsync(scraper);

        Assert.DoesNotContain("x_custom_type_", text);
        Assert.True(Value(text, "hub_ingest_events_total", "type=\"other\"", "outcome=\"accepted\"") >= 1);
        Assert.DoesNotContain("Acme", text);
    }

    internal static List<string> Families(string exposition) =>
        exposition.Split('\n').Where(line => line.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(line => line.Split(' ')[2]).ToList();

    internal static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels hold every one of <paramref name="labels"/>; 0 when there is none.</summary>
    internal static double Value(string exposition, string name, params string[] labels) =>
        exposition.Split('\n')
            .Select(line => Sample().Match(line))
            .Where(match => match.Success && match.Groups["name"].Value == name && labels.All(label => match.Groups["labels"].Value.Contains(label, StringComparison.Ordinal)))
            .Sum(match => double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[^ ]+)")]
    private static partial Regex Sample();
}
