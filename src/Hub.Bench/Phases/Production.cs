using Hub.Tests.Support;
using Hub.Bench.Reporting;
using Hub.Bench.Running;
using Hub.Bench.Scenarios;

namespace Hub.Bench.Phases;

/// <summary>
/// The production topology as operators run it: RabbitMQ, PostgreSQL, one Hub.Workers and one Hub.Api process
/// (Release builds), the bench's agents on WebSockets. Raw broker baseline, ingest, screen-pop, click-to-call.
/// </summary>
public static class Production
{
    private const string Scenario = "production";
    private static readonly TimeSpan QuietTimeout = TimeSpan.FromMinutes(3);

    public static async Task RunAsync(BenchContext context, bool ingest, bool screenPop, bool dial, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        var report = context.Report;
        Progress.Line(Scenario, "starting PostgreSQL, RabbitMQ, Hub.Workers and Hub.Api");
        var database = await context.Servers.DatabaseAsync();
        var broker = await context.Servers.VirtualHostAsync();
        report.Machine["PostgreSQL"] = await Servers.PostgresVersionAsync(database);
        report.Machine["RabbitMQ"] = await Servers.RabbitMqVersionAsync(broker);
        var environment = HubProcess.Production(database, broker);
        // Workers first: their durable queues must be bound before anything is published.
        await using var workers = await HubProcess.StartAsync("Hub.Workers", "workers", environment, context.LogDirectory);
        environment["Hub__NodeId"] = "bench-api";
        await using var api = await HubProcess.StartAsync("Hub.Api", "api", environment, context.LogDirectory);
        report.Machine["production topology"] = "RabbitMQ, PostgreSQL, 1 Hub.Workers process, 1 Hub.Api process and the bench's agents, all on this machine";
        using var hub = new HubClient(api.Url);
        var probe = StoreProbe.Postgres(database);

        double? maximum = null;
        if (ingest)
        {
            var size = await MeasureBusMessageAsync(hub, broker, cancellationToken);
            report.Note(Scenario, $"raw broker baseline: {settings.IngestDuration.TotalSeconds:0} s of persistent {size}-byte messages (the size of Hub's own bus message for an incoming_call), up to 512 confirms outstanding, 1 consumer, prefetch 256");
            var raw = await RawBroker.RunAsync(broker, size, settings.IngestDuration, cancellationToken);
            report.Note(Scenario, $"raw broker: {raw.Messages:#,0} messages, {raw.ConfirmedPerSecond:#,0}/s confirmed, {raw.ConsumedPerSecond:#,0}/s consumed and acked");
            var cpu = CpuBreakdown.Start(context.Servers, ("Hub.Api", api.Pid), ("Hub.Workers", workers.Pid));
            Ingest.Result result;
            await using (var depths = await QueueDepths.StartAsync(broker))
            {
                result = await Ingest.RunAsync(Scenario, hub, probe, settings, cancellationToken);
                report.Note(Scenario, "worker queues during ingest (from the first publish): " + depths.Describe());
            }

            report.Note(Scenario, cpu.Describe("ingest", result.Accepted));
            Record.Ingest(context, Scenario, result, raw);
            var stages = await IngestStages.RunAsync(database, broker, "bench-stages", size, 200, cancellationToken);
            report.Note(Scenario, "an idle Publish's stages with raw clients on the same servers, one at a time: " +
                $"claim INSERT in a transaction {stages.ClaimInsert.Describe()}; persistent publish + broker confirm {stages.PublishConfirm.Describe()}; " +
                $"COMMIT {stages.Commit.Describe()}");

            // The sustainable maximum is what the workers persist; acks alone can outrun them for a while.
            maximum = result.PersistedPerSecond;
        }

        if (screenPop)
        {
            foreach (var rate in Rates(settings, maximum))
            {
                var echo = await context.EchoAsync(rate, cancellationToken);
                await QueueDepths.WaitEmptyAsync(broker, QuietTimeout, cancellationToken);
                await using var depths = await QueueDepths.StartAsync(broker);
                var cpu = CpuBreakdown.Start(context.Servers, ("Hub.Api", api.Pid), ("Hub.Workers", workers.Pid));
                var pops = await Latency.ScreenPopAsync(Scenario, hub, probe, settings, rate, cancellationToken);
                Record.Pops(context, Scenario, pops, echo);
                report.Note(Scenario, $"worker queues during the screen-pops at {rate:#,0} events/s: " + depths.Describe());
                report.Note(Scenario, cpu.Describe($"the screen-pops at {rate:#,0} events/s", pops.AckedEvents));
            }
        }

        if (dial)
        {
            await QueueDepths.WaitEmptyAsync(broker, QuietTimeout, cancellationToken);
            Record.Dials(context, Scenario, await Dial.RunAsync(Scenario, hub, settings, cancellationToken));
        }
    }

    /// <summary>The target's 1,000 events/s, and the fixed fraction of the sustainable (persisted) maximum measured in this run.</summary>
    public static IEnumerable<double> Rates(BenchSettings settings, double? maximum)
    {
        yield return settings.TargetEventsPerSecond;
        if (settings.MaxRateFraction > 0 && maximum is { } max && Math.Abs(max * settings.MaxRateFraction - settings.TargetEventsPerSecond) > 50)
        {
            yield return Math.Round(max * settings.MaxRateFraction / 10) * 10;
        }
    }

    private static async Task<int> MeasureBusMessageAsync(HubClient hub, string broker, CancellationToken cancellationToken)
    {
        await using var pool = await AgentPool.StartAsync(hub, "bench message size", 1, cancellationToken);
        var measured = await BusMessageSize.MeasureAsync(broker,
            () => pool.Agents[0].Client.InvokeAsync("Publish", Envelopes.Incoming("size-1", Envelopes.Number(1), 1)), cancellationToken);
        return measured ?? Latency.EnvelopeBytes();
    }
}
