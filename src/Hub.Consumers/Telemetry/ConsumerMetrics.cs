using System.Diagnostics.Metrics;

namespace Hub.Consumers.Telemetry;

/// <summary>The consumers' own instruments. No tenant, agent or URL is ever a label.</summary>
public sealed class ConsumerMetrics
{
    public const string EventsMeter = "Hub.Events";
    public const string WebhooksMeter = "Hub.Webhooks";
    public const string CrmLookupMeter = "Hub.CrmLookup";

    private readonly Histogram<long> _batchSize;
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _webhookAttempts;
    private readonly Histogram<double> _crmLookup;
    private readonly UpDownCounter<long> _openCircuits;

    public ConsumerMetrics(IMeterFactory meters)
    {
        var events = meters.Create(EventsMeter);
        _batchSize = events.CreateHistogram<long>("hub.events.batch.size", "{event}",
            "Webphone events written per batch (one transaction) by the hub-events consumer");
        _lag = events.CreateHistogram<double>("hub.events.lag", "s",
            "From the hub receiving a webphone event to its batch being written: how far the consumers are behind");

        _webhookAttempts = meters.Create(WebhooksMeter).CreateCounter<long>("hub.webhooks.attempts", "{attempt}",
            "Webhook POSTs by outcome: success (2xx), http_error (another status), timeout, network_error");

        _crmLookup = meters.Create(CrmLookupMeter).CreateHistogram<double>("hub.crm_lookup.duration", "s",
            "Screen-pop CRM lookups by outcome (found, not_found, timed_out, busy, circuit_open, failed, refused)");
        _openCircuits = meters.Create(CrmLookupMeter).CreateUpDownCounter<long>("hub.crm_lookup.open_circuits", "{circuit}",
            "Accounts' CRM lookup endpoints whose circuit breaker is open on this worker: pops go out without a lookup meanwhile");
    }

    public void CircuitOpened() => _openCircuits.Add(1);

    public void CircuitClosed() => _openCircuits.Add(-1);

    public void BatchWritten(IEnumerable<DateTimeOffset> receivedAt, DateTimeOffset now)
    {
        var count = 0;
        foreach (var received in receivedAt)
        {
            _lag.Record(Math.Max(0, (now - received).TotalSeconds));
            count++;
        }

        _batchSize.Record(count);
    }

    public void WebhookAttempt(string outcome) => _webhookAttempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void CrmLookup(string outcome, TimeSpan duration) =>
        _crmLookup.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));
}
