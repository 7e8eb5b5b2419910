using Hub.Contracts;
using System.Globalization;
using System.Text.Json;

namespace Hub.Consumers.CallLog;

/// <summary>
/// One stored row of <c>call_events</c>. Times are Unix epoch milliseconds UTC. A record with init
/// properties (not a positional record) so Dapper can materialise it by column name.
/// </summary>
public sealed record CallEventRow
{
    public required string EventId { get; init; }
    public required string CallId { get; init; }
    public required string AgentId { get; init; }
    public required string Type { get; init; }
    public long Seq { get; init; }
    public long OccurredAt { get; init; }
    public long ReceivedAt { get; init; }

    /// <summary>The raw JSON object exactly as the webphone posted it.</summary>
    public required string Payload { get; init; }

    public string? CampaignId { get; init; }
    public string? LeadId { get; init; }
}

/// <summary>One row of <c>calls</c>: the state of a call as its events so far describe it.</summary>
public sealed record CallRecord
{
    public required string CallId { get; init; }
    public required string AgentId { get; init; }

    /// <summary><c>inbound</c>, <c>outbound</c>, or null while no start event has been seen.</summary>
    public string? Direction { get; init; }

    public string? FromNumber { get; init; }
    public string? ToNumber { get; init; }

    /// <summary>The other party's number as the webphone reported it (inbound: from, outbound: to).</summary>
    public string? RemoteNumber { get; init; }

    /// <summary><c>ringing</c>, <c>in_progress</c>, <c>answered</c>, <c>missed</c> or <c>failed</c>.</summary>
    public required string Status { get; init; }

    public long StartedAt { get; init; }
    public long? AnsweredAt { get; init; }
    public long? EndedAt { get; init; }
    public int? RingSeconds { get; init; }
    public int? Billsec { get; init; }
    public string? HangupCause { get; init; }
    public string? CampaignId { get; init; }
    public string? LeadId { get; init; }
}

/// <summary>
/// Rebuilds a call row from ALL stored events of the call. Events arrive twice, late and out of order
/// (a hangup before its answer), and the consumer rebuilds after every new one, so this is a pure function
/// of the SET of events: the input order never matters and the row converges whatever the arrival order.
/// </summary>
/// <remarks>
/// Rules:
/// <list type="number">
/// <item>Canonical order: events are de-duplicated by <c>EventId</c> (ordinal) and sorted by
/// (<c>OccurredAt</c>, <c>Seq</c>, <c>EventId</c> ordinal). "Earliest" below always means first in that order.
/// If two rows share an <c>EventId</c> but differ, the one that sorts first by every column wins, so even a
/// corrupt duplicate cannot make the result depend on input order.</item>
/// <item>Direction comes from the earliest <c>incoming_call</c> (inbound) or <c>outgoing_call</c> (outbound),
/// whichever comes first. Inbound: From = <c>payload.call.number</c>, To = <c>payload.call.to</c> or
/// <c>payload.call.destination</c>. Outbound: To = <c>payload.call.number</c>, From = <c>payload.call.from</c>.
/// The remote number is <c>payload.call.number</c> of the start event; when the start event lacks it, or there
/// is no start event, it is taken from the earliest event that has one. Without a start event Direction,
/// From and To stay null (which side the number is on is unknown).</item>
/// <item>AgentId: the start event's agent, else the earliest event's.</item>
/// <item>StartedAt: the start event's <c>OccurredAt</c>, else the earliest event's.</item>
/// <item>The hangup is the earliest <c>call_hangup</c>; later ones are ignored (a webphone may report twice).
/// EndedAt = its <c>OccurredAt</c>. Billsec = <c>payload.billsec</c> (a whole number given as a JSON number or
/// numeric string; negative, fractional or unparsable values are absent). HangupCause = the first non-empty of
/// <c>payload.cause</c>, <c>payload.hangup_cause</c>, <c>payload.call.hangup_cause</c>, <c>payload.reason</c>.</item>
/// <item>The answer is the earliest <c>call_answered</c>. It counts only without a hangup or when it occurred
/// at or before the hangup: a late answer after the hangup never reopens or changes a finished call.</item>
/// <item>Status with a hangup: <c>answered</c> if an answer counts or Billsec &gt; 0; else <c>failed</c> if an
/// <c>error</c> event occurred at or before the hangup or the cause is a failure cause (case-insensitive:
/// failed, failure, network_error, rejected_by_server, service_unavailable, error); else <c>missed</c>.
/// Without a hangup: <c>in_progress</c> if an answer exists, else <c>ringing</c>. When Billsec &gt; 0 but no
/// answer counts, AnsweredAt = EndedAt - Billsec seconds, kept between StartedAt and EndedAt.</item>
/// <item>RingSeconds = ((AnsweredAt ?? EndedAt) - StartedAt) in whole seconds, rounded half away from zero,
/// clamped to 0 (clock skew must not produce negative rings); null while neither time is known.</item>
/// <item>CampaignId / LeadId (each on its own): the start event's row column, else the start event's
/// <c>payload.options</c> / <c>payload.call.options</c> (<c>campaignId</c>/<c>campaign_id</c>,
/// <c>leadId</c>/<c>lead_id</c>, string or number rendered invariantly); else the same two sources of the other
/// events in canonical order, so a call without a start event still gets them.</item>
/// <item>Malformed payloads never throw: payload text that is not JSON, or JSON that is not an object, is an
/// empty object, and a field of the wrong type is absent.</item>
/// </list>
/// </remarks>
public static class CallRecordBuilder
{
    public const string Inbound = "inbound";
    public const string Outbound = "outbound";

    public const string Ringing = "ringing";
    public const string InProgress = "in_progress";
    public const string Answered = "answered";
    public const string Missed = "missed";
    public const string Failed = "failed";

    private const string IncomingCall = "incoming_call";
    private const string OutgoingCall = "outgoing_call";
    private const string CallAnswered = "call_answered";
    private const string CallHangup = "call_hangup";
    private const string Error = "error";

    private static readonly HashSet<string> FailureCauses = new(StringComparer.OrdinalIgnoreCase)
    {
        "failed", "failure", "network_error", "rejected_by_server", "service_unavailable", "error",
    };

    /// <summary>Builds the call row from every stored event of one call.</summary>
    /// <exception cref="ArgumentException">No events, a null event, or events of more than one call.</exception>
    public static CallRecord Build(IReadOnlyCollection<CallEventRow> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            throw new ArgumentException("A call record needs at least one event.", nameof(events));
        }

        var ordered = Canonical(events);
        var callId = ordered[0].Row.CallId;
        if (ordered.Any(e => !string.Equals(e.Row.CallId, callId, StringComparison.Ordinal)))
        {
            // The consumer loads events by call id; a mix means a query bug that must not be hidden.
            throw new ArgumentException("All events must belong to the same call.", nameof(events));
        }

        var first = ordered[0];
        var start = ordered.FirstOrDefault(e => e.Row.Type is IncomingCall or OutgoingCall);
        var hangup = ordered.FirstOrDefault(e => e.Row.Type == CallHangup);
        var answer = ordered.FirstOrDefault(e => e.Row.Type == CallAnswered);

        // Numbers: only the start event tells which side the number is on.
        string? direction = null, from = null, to = null;
        var remote = start?.Number ?? ordered.Select(e => e.Number).FirstOrDefault(n => n is not null);
        if (start is not null)
        {
            if (start.Row.Type == IncomingCall)
            {
                direction = Inbound;
                from = remote;
                to = start.CallTo;
            }
            else
            {
                direction = Outbound;
                to = remote;
                from = start.CallFrom;
            }
        }

        var agentId = (start ?? first).Row.AgentId;
        var startedAt = (start ?? first).Row.OccurredAt;

        long? endedAt = hangup?.Row.OccurredAt;
        var billsec = hangup?.Billsec;
        var cause = hangup?.Cause;

        // A late answer after the hangup never reopens or changes a finished call.
        var countingAnswer = answer is not null && (hangup is null || answer.Row.OccurredAt <= hangup.Row.OccurredAt)
            ? answer
            : null;
        long? answeredAt = countingAnswer?.Row.OccurredAt;

        string status;
        if (hangup is not null)
        {
            if (countingAnswer is not null || billsec > 0)
            {
                status = Answered;
                if (countingAnswer is null)
                {
                    // The webphone billed talk time without an answer event we saw: derive when talk began.
                    answeredAt = DeriveAnsweredAt(startedAt, hangup.Row.OccurredAt, billsec!.Value);
                }
            }
            else if (ordered.Any(e => e.Row.Type == Error && e.Row.OccurredAt <= hangup.Row.OccurredAt)
                || (cause is not null && FailureCauses.Contains(cause.Trim())))
            {
                status = Failed;
            }
            else
            {
                status = Missed;
            }
        }
        else
        {
            status = answer is not null ? InProgress : Ringing;
        }

        var ringEnd = answeredAt ?? endedAt;
        int? ringSeconds = ringEnd is null ? null : WholeSeconds(ringEnd.Value, startedAt);

        // The start event describes the call best; other events only fill what it lacks.
        var sources = start is null ? ordered : ordered.Where(e => !ReferenceEquals(e, start)).Prepend(start).ToList();
        var campaignId = sources.Select(e => NonBlank(e.Row.CampaignId) ?? e.OptionCampaignId).FirstOrDefault(v => v is not null);
        var leadId = sources.Select(e => NonBlank(e.Row.LeadId) ?? e.OptionLeadId).FirstOrDefault(v => v is not null);

        return new CallRecord
        {
            CallId = callId,
            AgentId = agentId,
            Direction = direction,
            FromNumber = from,
            ToNumber = to,
            RemoteNumber = remote,
            Status = status,
            StartedAt = startedAt,
            AnsweredAt = answeredAt,
            EndedAt = endedAt,
            RingSeconds = ringSeconds,
            Billsec = billsec,
            HangupCause = cause,
            CampaignId = campaignId,
            LeadId = leadId,
        };
    }

    /// <summary>De-duplicated by EventId and sorted into the canonical order, each payload parsed once.</summary>
    private static List<ParsedEvent> Canonical(IReadOnlyCollection<CallEventRow> events)
    {
        var rows = new List<CallEventRow>(events.Count);
        foreach (var row in events)
        {
            if (row is null)
            {
                throw new ArgumentException("Events must not contain null.", nameof(events));
            }

            rows.Add(row);
        }

        // Sorting by every column makes the kept copy of a duplicated EventId the same whatever the input order.
        rows.Sort(CompareAllColumns);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<ParsedEvent>(rows.Count);
        foreach (var row in rows)
        {
            if (seen.Add(row.EventId))
            {
                result.Add(ParsedEvent.From(row));
            }
        }

        return result;
    }

    private static int CompareAllColumns(CallEventRow a, CallEventRow b)
    {
        // The first column that differs decides (compared lazily: the payload only on a tie of all else); every
        // column takes part, so the order is total.
        var c = a.OccurredAt.CompareTo(b.OccurredAt);
        c = c != 0 ? c : a.Seq.CompareTo(b.Seq);
        c = c != 0 ? c : string.CompareOrdinal(a.EventId, b.EventId);
        c = c != 0 ? c : a.ReceivedAt.CompareTo(b.ReceivedAt);
        c = c != 0 ? c : string.CompareOrdinal(a.Type, b.Type);
        c = c != 0 ? c : string.CompareOrdinal(a.AgentId, b.AgentId);
        c = c != 0 ? c : string.CompareOrdinal(a.CallId, b.CallId);
        c = c != 0 ? c : string.CompareOrdinal(a.Payload, b.Payload);
        c = c != 0 ? c : string.CompareOrdinal(a.CampaignId, b.CampaignId);
        c = c != 0 ? c : string.CompareOrdinal(a.LeadId, b.LeadId);
        return c;
    }

    private static long DeriveAnsweredAt(long startedAt, long endedAt, int billsec)
    {
        var talkMs = billsec * 1000L;
        var derived = endedAt >= long.MinValue + talkMs ? endedAt - talkMs : long.MinValue;
        // Not before the start (billsec may include the ring time on some PBXes), not after the end.
        return Math.Min(endedAt, Math.Max(startedAt, derived));
    }

    private static int WholeSeconds(long end, long start)
    {
        // decimal: no overflow for any pair of longs, and the rounding rule is exact.
        var seconds = Math.Round(((decimal)end - start) / 1000m, MidpointRounding.AwayFromZero);
        return seconds <= 0 ? 0 : seconds >= int.MaxValue ? int.MaxValue : (int)seconds;
    }

    private static string? NonBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>A row with the payload fields the builder uses, read once by <see cref="WebphonePayload"/>; absent or malformed fields are null.</summary>
    private sealed record ParsedEvent(
        CallEventRow Row,
        string? Number,
        string? CallTo,
        string? CallFrom,
        int? Billsec,
        string? Cause,
        string? OptionCampaignId,
        string? OptionLeadId)
    {
        public static ParsedEvent From(CallEventRow row)
        {
            var payload = WebphonePayload.Read(row.Payload);
            return new ParsedEvent(row, payload.Number, payload.CallTo, payload.CallFrom, payload.Billsec, payload.HangupCause,
                payload.CampaignId, payload.LeadId);
        }
    }
}
