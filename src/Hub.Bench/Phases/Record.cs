using Hub.Bench.Reporting;
using Hub.Bench.Scenarios;

namespace Hub.Bench.Phases;

/// <summary>Turns a scenario's result into figures, baselines, targets and notes, the same way for both topologies.</summary>
public static class Record
{
    public const double PopTargetMs = 50;
    public const double DialTargetMs = 25;

    public static void Ingest(BenchContext context, string scenario, Ingest.Result result, RawBroker.Result? raw)
    {
        var report = context.Report;
        report.Add(new Figure(scenario, "ingest: events/s acked", result.AckedPerSecond, "events/s",
            raw is null ? null : "raw RabbitMQ publish with confirms", raw?.ConfirmedPerSecond,
            raw is null ? null : ">= 50% of raw", raw is null ? null : result.AckedPerSecond >= 0.5 * raw.ConfirmedPerSecond));
        report.Add(new Figure(scenario, "ingest: events/s persisted in the call log", result.PersistedPerSecond, "events/s",
            raw is null ? null : "raw RabbitMQ publish + consume with acks", raw?.ConsumedPerSecond,
            raw is null ? null : ">= 50% of raw", raw is null ? null : result.PersistedPerSecond >= 0.5 * raw.ConsumedPerSecond));
        report.Note(scenario, result.Detail);
        report.Note(scenario, result.Consumers);
        report.Note(scenario, $"PublishBatch ack latency under maximum load: {result.BatchAck.Describe()}");
        if (!result.Lossless)
        {
            report.Loss(scenario, "acked events missing from the call log or calls incomplete: " + result.Detail);
        }
    }

    public static void Pops(BenchContext context, string scenario, Latency.PopResult pops, Distribution echo)
    {
        var report = context.Report;
        var rate = $"{pops.OfferedEventsPerSecond:#,0} events/s";
        var baseline = "bare SignalR echo round trip, same rate";
        report.Add(new Figure(scenario, $"screen-pop p50 at {rate}", pops.Pop.P50, "ms", baseline, echo.P50));
        report.Add(new Figure(scenario, $"screen-pop p95 at {rate}", pops.Pop.P95, "ms", baseline, echo.P95));
        report.Add(new Figure(scenario, $"screen-pop p99 at {rate}", pops.Pop.P99, "ms", baseline, echo.P99, $"<= {PopTargetMs} ms", pops.Pop.P99 <= PopTargetMs));
        report.Add(new Figure(scenario, $"screen-pop max at {rate}", pops.Pop.Max, "ms", baseline, echo.Max));
        report.Note(scenario, $"screen-pops at {rate} offered ({pops.AchievedEventsPerSecond:#,0} achieved): Publish ack {pops.Ack.Describe()}; " +
            $"send to pop created by the worker {pops.ToWorker.Describe()}; pop created to received by the agent {pops.ToBrowser.Describe()}; " +
            $"{pops.Refused:#,0} publishes answered bus_unavailable and sent again");
        if (pops.Missing > 0)
        {
            report.Loss(scenario, $"{pops.Missing} incoming calls at {rate} got no screen-pop within 30 s");
        }
    }

    public static void Dials(BenchContext context, string scenario, Dial.Result dial)
    {
        var report = context.Report;
        report.Add(new Figure(scenario, "click-to-call p50 (POST dial to Command received)", dial.Command.P50, "ms"));
        report.Add(new Figure(scenario, "click-to-call p99", dial.Command.P99, "ms", Target: $"<= {DialTargetMs} ms", TargetMet: dial.Command.P99 <= DialTargetMs));
        report.Note(scenario, $"click-to-call: Command {dial.Command.Describe()}; the POST's 202 {dial.Accepted.Describe()}");
        if (dial.Missing > 0)
        {
            report.Loss(scenario, $"{dial.Missing} dials never reached the agent");
        }
    }
}
