using System.Globalization;

namespace Hub.Bench.Running;

/// <summary>The relay's envelope, as the webphone iframe posted the event (see src/relay).</summary>
public sealed record Envelope(Guid EventId, long Seq, string OccurredAt, string Type, object Payload);

/// <summary>Webphone call lifecycles as the relay sends them: incoming_call, call_answered, call_hangup with billsec.</summary>
public static class Envelopes
{
    public const int Billsec = 42;

    public static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A national-format number of the i-th bench contact (the same numbers the contacts scenario stores).</summary>
    public static string Number(int i) => "09" + (10_000_000 + i).ToString(CultureInfo.InvariantCulture);

    public static Envelope Incoming(string callId, string number, long seq) =>
        new(Guid.NewGuid(), seq, Now(), "incoming_call", new { call = new { uuid = callId, number } });

    public static Envelope Answered(string callId, long seq) =>
        new(Guid.NewGuid(), seq, Now(), "call_answered", new { call = new { uuid = callId } });

    public static Envelope Hangup(string callId, long seq) =>
        new(Guid.NewGuid(), seq, Now(), "call_hangup", new { call = new { uuid = callId }, billsec = Billsec });

    public static IEnumerable<Envelope> Lifecycle(string callId, string number, long seq) =>
        [Incoming(callId, number, seq), Answered(callId, seq + 1), Hangup(callId, seq + 2)];

    /// <summary>Contacts whose numbers <see cref="Number"/> gives, so most screen-pops match one.</summary>
    public static object[] Contacts(int count) =>
        Enumerable.Range(0, count)
            .Select(i => (object)new
            {
                external_id = $"c-{i}",
                display_name = $"Contact {i}",
                company = "Bench Co",
                phones = new[] { Number(i) },
                url = $"https://crm.example/contacts/c-{i}",
            })
            .ToArray();
}
