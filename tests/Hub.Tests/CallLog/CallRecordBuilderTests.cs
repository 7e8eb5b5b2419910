using Hub.Consumers.CallLog;

namespace Hub.Tests.CallLog;

public class CallRecordBuilderTests
{
    private const string CallId = "call-1";

    private static CallEventRow Row(
        string eventId,
        string type,
        long occurredAt,
        long seq,
        string payload = "{}",
        string agentId = "agent-1",
        long? receivedAt = null,
        string? campaignId = null,
        string? leadId = null) => new()
        {
            EventId = eventId,
            CallId = CallId,
            AgentId = agentId,
            Type = type,
            Seq = seq,
            OccurredAt = occurredAt,
            ReceivedAt = receivedAt ?? occurredAt + 50,
            Payload = payload,
            CampaignId = campaignId,
            LeadId = leadId,
        };

    private static string Incoming(string number, string? to = null) =>
        to is null
            ? $$$"""{"call":{"uuid":"{{{CallId}}}","number":"{{{number}}}"}}"""
            : $$$"""{"call":{"uuid":"{{{CallId}}}","number":"{{{number}}}","to":"{{{to}}}"}}""";

    private static string Hangup(object? billsec, string? cause = null)
    {
        var billsecJson = billsec switch
        {
            null => "null",
            string s => $"\"{s}\"",
            _ => Convert.ToString(billsec, System.Globalization.CultureInfo.InvariantCulture),
        };
        return cause is null
            ? $$$"""{"call":{"uuid":"{{{CallId}}}"},"billsec":{{{billsecJson}}}}"""
            : $$$"""{"call":{"uuid":"{{{CallId}}}"},"billsec":{{{billsecJson}}},"cause":"{{{cause}}}"}""";
    }

    private static CallRecord Build(params CallEventRow[] rows) => CallRecordBuilder.Build(rows);

    // ---- Rule 1: canonical order and de-duplication -------------------------------------------------------

    [Fact]
    public void Empty_event_list_throws_ArgumentException()
    {
        Assert.Throws<ArgumentException>(() => CallRecordBuilder.Build(Array.Empty<CallEventRow>()));
    }

    [Fact]
    public void Events_of_different_calls_throw_ArgumentException()
    {
        var other = Row("e2", "call_answered", 2_000, 2) with { CallId = "call-2" };
        Assert.Throws<ArgumentException>(() => Build(Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")), other));
    }

    [Fact]
    public void Duplicate_events_have_one_effect()
    {
        var incoming = Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001"));
        var answered = Row("e2", "call_answered", 3_000, 2);
        var hangup = Row("e3", "call_hangup", 9_000, 3, Hangup(6));

        var once = Build(incoming, answered, hangup);
        var twice = Build(hangup, incoming, answered, hangup with { }, incoming with { ReceivedAt = 99_999 }, answered);

        Assert.Equal(once, twice);
        Assert.Equal("answered", twice.Status);
    }

    [Fact]
    public void Conflicting_copies_of_one_event_id_resolve_the_same_in_any_order()
    {
        // Two rows claiming the same EventId cannot both be kept; the one sorting first by every column wins.
        var incoming = Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001"));
        var hangupA = Row("e2", "call_hangup", 9_000, 2, Hangup(0, "NO_ANSWER"));
        var hangupB = Row("e2", "call_hangup", 9_000, 2, Hangup(0, "USER_BUSY"));

        var forward = Build(incoming, hangupA, hangupB);
        var backward = Build(hangupB, hangupA, incoming);

        Assert.Equal(forward, backward);
        Assert.Equal("NO_ANSWER", forward.HangupCause);
    }

    [Fact]
    public void Equal_occurrence_times_are_ordered_by_seq_not_by_input_order()
    {
        var incoming = Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001"));
        var firstHangup = Row("z-hangup", "call_hangup", 9_000, 5, Hangup(0, "NO_ANSWER"));
        var secondHangup = Row("a-hangup", "call_hangup", 9_000, 6, Hangup(0, "USER_BUSY"));

        Assert.Equal("NO_ANSWER", Build(incoming, secondHangup, firstHangup).HangupCause);
        Assert.Equal("NO_ANSWER", Build(firstHangup, secondHangup, incoming).HangupCause);
    }

    [Fact]
    public void Equal_time_and_seq_are_ordered_by_event_id()
    {
        var incoming = Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001"));
        var b = Row("b-hangup", "call_hangup", 9_000, 5, Hangup(0, "USER_BUSY"));
        var a = Row("a-hangup", "call_hangup", 9_000, 5, Hangup(0, "NO_ANSWER"));

        Assert.Equal("NO_ANSWER", Build(incoming, b, a).HangupCause);
        Assert.Equal("NO_ANSWER", Build(a, b, incoming).HangupCause);
    }

    // ---- Rule 2: direction and numbers ------------------------------------------------------------------

    [Fact]
    public void Inbound_call_takes_numbers_from_the_incoming_call()
    {
        var record = Build(Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001", to: "+15559999")));

        Assert.Equal("inbound", record.Direction);
        Assert.Equal("+15550001", record.FromNumber);
        Assert.Equal("+15559999", record.ToNumber);
        Assert.Equal("+15550001", record.RemoteNumber);
    }

    [Fact]
    public void Inbound_call_uses_destination_when_to_is_absent()
    {
        var record = Build(Row("e1", "incoming_call", 1_000, 1,
            """{"call":{"uuid":"call-1","number":"+15550001","destination":"201"}}"""));

        Assert.Equal("201", record.ToNumber);
    }

    [Fact]
    public void Inbound_call_without_to_has_no_to_number()
    {
        var record = Build(Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")));

        Assert.Null(record.ToNumber);
        Assert.Equal("+15550001", record.FromNumber);
    }

    [Fact]
    public void Outbound_call_takes_numbers_from_the_outgoing_call()
    {
        var withFrom = Build(Row("e1", "outgoing_call", 1_000, 1,
            """{"call":{"uuid":"call-1","number":"+4930123","from":"+4940999"}}"""));
        var withoutFrom = Build(Row("e1", "outgoing_call", 1_000, 1,
            """{"call":{"uuid":"call-1","number":"+4930123"}}"""));

        Assert.Equal("outbound", withFrom.Direction);
        Assert.Equal("+4930123", withFrom.ToNumber);
        Assert.Equal("+4940999", withFrom.FromNumber);
        Assert.Equal("+4930123", withFrom.RemoteNumber);
        Assert.Null(withoutFrom.FromNumber);
        Assert.Equal("+4930123", withoutFrom.ToNumber);
    }

    [Fact]
    public void Earliest_start_event_decides_direction_when_both_kinds_exist()
    {
        var outgoing = Row("e1", "outgoing_call", 1_000, 1, """{"call":{"uuid":"call-1","number":"+4930123"}}""");
        var incoming = Row("e2", "incoming_call", 2_000, 2, Incoming("+15550001"), agentId: "agent-2");

        var record = Build(incoming, outgoing);

        Assert.Equal("outbound", record.Direction);
        Assert.Equal("+4930123", record.RemoteNumber);
        Assert.Equal("agent-1", record.AgentId);
        Assert.Equal(1_000, record.StartedAt);
    }

    [Fact]
    public void Without_a_start_event_the_remote_number_comes_from_any_event()
    {
        var answered = Row("e1", "call_answered", 2_000, 1);
        var hangup = Row("e2", "call_hangup", 9_000, 2, """{"call":{"uuid":"call-1","number":"+15550002"},"billsec":7}""");

        var record = Build(hangup, answered);

        Assert.Null(record.Direction);
        Assert.Null(record.FromNumber);
        Assert.Null(record.ToNumber);
        Assert.Equal("+15550002", record.RemoteNumber);
    }

    [Fact]
    public void Start_event_without_a_number_borrows_it_from_another_event()
    {
        var incoming = Row("e1", "incoming_call", 1_000, 1, """{"call":{"uuid":"call-1"}}""");
        var hangup = Row("e2", "call_hangup", 9_000, 2, """{"call":{"uuid":"call-1","number":"+15550002"}}""");

        var record = Build(hangup, incoming);

        Assert.Equal("inbound", record.Direction);
        Assert.Equal("+15550002", record.FromNumber);
        Assert.Equal("+15550002", record.RemoteNumber);
    }

    // ---- Rules 3 and 4: agent and start time --------------------------------------------------------------

    [Fact]
    public void Agent_and_start_come_from_the_start_event_even_when_an_earlier_event_exists()
    {
        var earlyError = Row("e0", "error", 500, 1, agentId: "agent-9");
        var incoming = Row("e1", "incoming_call", 1_000, 2, Incoming("+15550001"), agentId: "agent-1");

        var record = Build(earlyError, incoming);

        Assert.Equal("agent-1", record.AgentId);
        Assert.Equal(1_000, record.StartedAt);
    }

    [Fact]
    public void Agent_and_start_come_from_the_earliest_event_without_a_start_event()
    {
        var hangup = Row("e2", "call_hangup", 9_000, 2, Hangup(0), agentId: "agent-2");
        var mute = Row("e1", "call_mute", 3_000, 1, agentId: "agent-3");

        var record = Build(hangup, mute);

        Assert.Equal("agent-3", record.AgentId);
        Assert.Equal(3_000, record.StartedAt);
        Assert.Equal(6, record.RingSeconds);
    }

    // ---- Rule 5: the hangup -----------------------------------------------------------------------------

    [Fact]
    public void Second_hangup_is_ignored()
    {
        var incoming = Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001"));
        var answered = Row("e2", "call_answered", 2_000, 2);
        var hangup = Row("e3", "call_hangup", 10_000, 3, Hangup(8, "NORMAL_CLEARING"));
        var secondHangup = Row("e4", "call_hangup", 12_000, 4, Hangup(10, "USER_BUSY"));

        var record = Build(secondHangup, answered, hangup, incoming);

        Assert.Equal(10_000, record.EndedAt);
        Assert.Equal(8, record.Billsec);
        Assert.Equal("NORMAL_CLEARING", record.HangupCause);
    }

    [Theory]
    [InlineData("12", 12)]
    [InlineData("0", 0)]
    [InlineData("12.0", 12)]
    [InlineData("\"12\"", 12)]
    [InlineData("\" 7 \"", 7)]
    [InlineData("-3", null)]
    [InlineData("\"-3\"", null)]
    [InlineData("1.5", null)]
    [InlineData("\"abc\"", null)]
    [InlineData("99999999999", null)]
    [InlineData("null", null)]
    [InlineData("true", null)]
    [InlineData("{}", null)]
    public void Billsec_is_a_non_negative_whole_number_from_a_number_or_numeric_string(string billsecJson, int? expected)
    {
        var hangup = Row("e2", "call_hangup", 9_000, 2, $$$"""{"billsec":{{{billsecJson}}}}""");

        var record = Build(Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")), hangup);

        Assert.Equal(expected, record.Billsec);
    }

    [Fact]
    public void Negative_billsec_does_not_mark_answered()
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "call_hangup", 9_000, 2, Hangup(-5)));

        Assert.Null(record.Billsec);
        Assert.Equal("missed", record.Status);
        Assert.Null(record.AnsweredAt);
    }

    [Theory]
    [InlineData("""{"cause":"C1"}""")]
    [InlineData("""{"hangup_cause":"C1"}""")]
    [InlineData("""{"call":{"hangup_cause":"C1"}}""")]
    [InlineData("""{"reason":"C1"}""")]
    public void Hangup_cause_is_read_from_any_of_its_fields(string payload)
    {
        var record = Build(Row("e1", "call_hangup", 9_000, 1, payload));

        Assert.Equal("C1", record.HangupCause);
    }

    [Fact]
    public void Hangup_cause_takes_the_first_non_empty_field()
    {
        var payload = """{"cause":"","hangup_cause":"  ","call":{"hangup_cause":"USER_BUSY"},"reason":"later"}""";

        var record = Build(Row("e1", "call_hangup", 9_000, 1, payload));

        Assert.Equal("USER_BUSY", record.HangupCause);
    }

    // ---- Rule 6: the answer -----------------------------------------------------------------------------

    [Fact]
    public void Hangup_before_answer_still_logs_a_missed_call()
    {
        var incoming = Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001"));
        var hangup = Row("e2", "call_hangup", 10_000, 2, Hangup(0, "ORIGINATOR_CANCEL"));
        // Occurred after the hangup: a stale answer must not reopen or change the finished call.
        var lateAnswer = Row("e3", "call_answered", 11_000, 3);

        var beforeAnswerArrives = Build(incoming, hangup);
        var afterAnswerArrives = Build(incoming, hangup, lateAnswer);

        Assert.Equal("missed", afterAnswerArrives.Status);
        Assert.Null(afterAnswerArrives.AnsweredAt);
        Assert.Equal(9, afterAnswerArrives.RingSeconds);
        Assert.Equal(beforeAnswerArrives, afterAnswerArrives);
    }

    [Fact]
    public void Late_delivered_answer_that_happened_before_the_hangup_counts()
    {
        var incoming = Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001"));
        var hangup = Row("e3", "call_hangup", 20_000, 3, Hangup(null, "NORMAL_CLEARING"), receivedAt: 20_050);
        // Delivered long after the hangup, but it happened before it.
        var answered = Row("e2", "call_answered", 5_000, 2, receivedAt: 60_000);

        var beforeAnswerArrives = Build(incoming, hangup);
        var afterAnswerArrives = Build(incoming, hangup, answered);

        Assert.Equal("missed", beforeAnswerArrives.Status);
        Assert.Equal("answered", afterAnswerArrives.Status);
        Assert.Equal(5_000, afterAnswerArrives.AnsweredAt);
        Assert.Equal(20_000, afterAnswerArrives.EndedAt);
        Assert.Equal(4, afterAnswerArrives.RingSeconds);
    }

    [Fact]
    public void Answer_at_the_same_millisecond_as_the_hangup_counts()
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e3", "call_hangup", 5_000, 2, Hangup(0)),
            Row("e2", "call_answered", 5_000, 3));

        Assert.Equal("answered", record.Status);
        Assert.Equal(5_000, record.AnsweredAt);
    }

    // ---- Rule 7: status ---------------------------------------------------------------------------------

    [Fact]
    public void Start_without_answer_or_hangup_is_ringing()
    {
        var record = Build(Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")));

        Assert.Equal("ringing", record.Status);
        Assert.Null(record.AnsweredAt);
        Assert.Null(record.EndedAt);
        Assert.Null(record.RingSeconds);
    }

    [Fact]
    public void Answer_without_hangup_is_in_progress()
    {
        var record = Build(
            Row("e2", "call_answered", 3_000, 2),
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")));

        Assert.Equal("in_progress", record.Status);
        Assert.Equal(3_000, record.AnsweredAt);
        Assert.Null(record.EndedAt);
        Assert.Equal(2, record.RingSeconds);
    }

    [Fact]
    public void Billsec_without_answer_event_marks_answered()
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "call_hangup", 40_000, 2, Hangup(30, "NORMAL_CLEARING")));

        Assert.Equal("answered", record.Status);
        Assert.Equal(30, record.Billsec);
        Assert.Equal(10_000, record.AnsweredAt);
        Assert.Equal(9, record.RingSeconds);
    }

    [Fact]
    public void Derived_answer_time_is_not_before_the_start()
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "call_hangup", 10_000, 2, Hangup(60)));

        Assert.Equal("answered", record.Status);
        Assert.Equal(1_000, record.AnsweredAt);
        Assert.Equal(0, record.RingSeconds);
    }

    [Fact]
    public void Billsec_after_a_late_answer_derives_the_answer_time_from_billsec()
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "call_hangup", 40_000, 2, Hangup(30)),
            Row("e3", "call_answered", 45_000, 3));

        Assert.Equal("answered", record.Status);
        Assert.Equal(10_000, record.AnsweredAt);
    }

    [Fact]
    public void Error_before_hangup_marks_failed()
    {
        var record = Build(
            Row("e1", "outgoing_call", 1_000, 1, """{"call":{"uuid":"call-1","number":"+4930123"}}"""),
            Row("e2", "error", 2_000, 2, """{"call":{"uuid":"call-1"},"message":"ICE failed"}"""),
            Row("e3", "call_hangup", 2_500, 3, Hangup(0, "NORMAL_CLEARING")));

        Assert.Equal("failed", record.Status);
        Assert.Null(record.AnsweredAt);
    }

    [Fact]
    public void Error_at_the_hangup_millisecond_marks_failed()
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e3", "error", 2_500, 3),
            Row("e2", "call_hangup", 2_500, 2, Hangup(0)));

        Assert.Equal("failed", record.Status);
    }

    [Fact]
    public void Error_after_hangup_does_not_mark_failed()
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "call_hangup", 2_500, 2, Hangup(0)),
            Row("e3", "error", 3_000, 3));

        Assert.Equal("missed", record.Status);
    }

    [Fact]
    public void Answered_call_with_an_error_stays_answered()
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "call_answered", 2_000, 2),
            Row("e3", "error", 3_000, 3),
            Row("e4", "call_hangup", 9_000, 4, Hangup(7)));

        Assert.Equal("answered", record.Status);
    }

    [Fact]
    public void Error_without_hangup_keeps_ringing()
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "error", 2_000, 2));

        Assert.Equal("ringing", record.Status);
    }

    [Theory]
    [InlineData("failed")]
    [InlineData("FAILED")]
    [InlineData("Failure")]
    [InlineData("network_error")]
    [InlineData("REJECTED_BY_SERVER")]
    [InlineData("service_unavailable")]
    [InlineData("Error")]
    public void Failure_hangup_cause_marks_failed(string cause)
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "call_hangup", 2_000, 2, Hangup(0, cause)));

        Assert.Equal("failed", record.Status);
        Assert.Equal(cause, record.HangupCause);
    }

    [Theory]
    [InlineData("USER_BUSY")]
    [InlineData("NO_ANSWER")]
    [InlineData("failed_over")]
    public void Other_hangup_cause_without_answer_marks_missed(string cause)
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "call_hangup", 2_000, 2, Hangup(0, cause)));

        Assert.Equal("missed", record.Status);
    }

    [Fact]
    public void Failure_cause_does_not_override_an_answer()
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "call_answered", 2_000, 2),
            Row("e3", "call_hangup", 9_000, 3, Hangup(7, "network_error")));

        Assert.Equal("answered", record.Status);
    }

    // ---- Rule 8: ring seconds ---------------------------------------------------------------------------

    [Theory]
    [InlineData(7_499, 7)]
    [InlineData(7_500, 8)]
    [InlineData(7_501, 8)]
    [InlineData(499, 0)]
    [InlineData(500, 1)]
    [InlineData(0, 0)]
    public void Ring_seconds_round_half_away_from_zero(long ringMs, int expected)
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "call_answered", 1_000 + ringMs, 2));

        Assert.Equal(expected, record.RingSeconds);
    }

    [Fact]
    public void Ring_seconds_use_the_end_when_there_is_no_answer()
    {
        var record = Build(
            Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
            Row("e2", "call_hangup", 16_600, 2, Hangup(0)));

        Assert.Equal(16, record.RingSeconds);
    }

    [Fact]
    public void Ring_seconds_are_never_negative()
    {
        // The hangup's clock ran behind the incoming_call's.
        var record = Build(
            Row("e1", "incoming_call", 10_000, 1, Incoming("+15550001")),
            Row("e2", "call_hangup", 4_000, 2, Hangup(0)));

        Assert.Equal(0, record.RingSeconds);
        Assert.Equal(10_000, record.StartedAt);
        Assert.Equal(4_000, record.EndedAt);
    }

    // ---- Rule 9: campaign and lead ----------------------------------------------------------------------

    [Fact]
    public void Campaign_and_lead_come_from_the_start_event_row()
    {
        var incoming = Row("e1", "incoming_call", 1_000, 1,
            """{"call":{"uuid":"call-1","number":"+15550001"},"options":{"campaignId":"from-payload","leadId":"from-payload"}}""",
            campaignId: "camp-7", leadId: "lead-9");
        var hangup = Row("e2", "call_hangup", 2_000, 2, Hangup(0), campaignId: "other", leadId: "other");

        var record = Build(hangup, incoming);

        Assert.Equal("camp-7", record.CampaignId);
        Assert.Equal("lead-9", record.LeadId);
    }

    [Fact]
    public void Outbound_call_takes_campaign_from_click_to_call_options()
    {
        var outgoing = Row("e1", "outgoing_call", 1_000, 1,
            """{"call":{"uuid":"call-1","number":"+4930123"},"options":{"campaignId":42,"lead_id":"L-1"}}""");

        var record = Build(outgoing, Row("e2", "call_answered", 3_000, 2));

        Assert.Equal("42", record.CampaignId);
        Assert.Equal("L-1", record.LeadId);
    }

    [Fact]
    public void Campaign_and_lead_can_come_from_call_options_in_snake_case()
    {
        var outgoing = Row("e1", "outgoing_call", 1_000, 1,
            """{"call":{"uuid":"call-1","number":"+4930123","options":{"campaign_id":"C-5","leadId":1234567890123}}}""");

        var record = Build(outgoing);

        Assert.Equal("C-5", record.CampaignId);
        Assert.Equal("1234567890123", record.LeadId);
    }

    [Fact]
    public void Campaign_falls_back_to_other_events_when_the_start_event_has_none()
    {
        var incoming = Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001"));
        var hangup = Row("e2", "call_hangup", 2_000, 2, Hangup(0), campaignId: "camp-late");

        var record = Build(hangup, incoming);

        Assert.Equal("camp-late", record.CampaignId);
        Assert.Null(record.LeadId);
    }

    // ---- Rule 10: malformed payloads --------------------------------------------------------------------

    [Fact]
    public void Malformed_payload_does_not_throw()
    {
        var rows = new[]
        {
            Row("e1", "incoming_call", 1_000, 1, "not json {"),
            Row("e2", "call_answered", 2_000, 2, "[1,2,3]"),
            Row("e3", "call_hold", 3_000, 3, "\"a string\""),
            Row("e4", "call_unhold", 4_000, 4, ""),
            Row("e5", "call_mute", 5_000, 5, null!),
            Row("e6", "call_hangup", 9_000, 6,
                """{"call":"x","billsec":{"a":1},"cause":[],"hangup_cause":null,"reason":false,"options":"y"}"""),
        };

        var record = CallRecordBuilder.Build(rows);

        Assert.Equal("inbound", record.Direction);
        Assert.Null(record.FromNumber);
        Assert.Null(record.ToNumber);
        Assert.Null(record.RemoteNumber);
        Assert.Null(record.Billsec);
        Assert.Null(record.HangupCause);
        Assert.Null(record.CampaignId);
        Assert.Equal("answered", record.Status);
        Assert.Equal(2_000, record.AnsweredAt);
        Assert.Equal(9_000, record.EndedAt);
    }

    [Fact]
    public void Wrongly_typed_call_fields_are_absent()
    {
        var record = Build(Row("e1", "outgoing_call", 1_000, 1,
            """{"call":{"number":{"x":1},"from":[],"options":{"campaignId":true,"leadId":null}}}"""));

        Assert.Equal("outbound", record.Direction);
        Assert.Null(record.ToNumber);
        Assert.Null(record.FromNumber);
        Assert.Null(record.CampaignId);
        Assert.Null(record.LeadId);
    }

    [Fact]
    public void Unknown_event_types_only_contribute_start_time_agent_and_number()
    {
        var record = Build(Row("e1", "call_transfer_requested", 1_000, 1,
            """{"call":{"uuid":"call-1","number":"+15550003"}}""", agentId: "agent-4"));

        Assert.Equal("ringing", record.Status);
        Assert.Null(record.Direction);
        Assert.Equal("+15550003", record.RemoteNumber);
        Assert.Equal("agent-4", record.AgentId);
        Assert.Equal(1_000, record.StartedAt);
    }

    // ---- Order independence over every permutation ----------------------------------------------------------

    private sealed record Scenario(CallEventRow[] Events, CallRecord Expected);

    private static readonly Dictionary<string, Scenario> Scenarios = new(StringComparer.Ordinal)
    {
        ["answered_inbound_with_hold_and_mute"] = new(
            [
                Row("a1", "incoming_call", 1_000, 1, Incoming("+15550001", to: "200")),
                Row("a2", "call_answered", 4_400, 2),
                Row("a3", "call_hold", 10_000, 3),
                Row("a4", "call_unhold", 20_000, 4),
                Row("a5", "call_mute", 30_000, 5),
                Row("a6", "call_hangup", 60_000, 6, Hangup(55, "NORMAL_CLEARING")),
            ],
            new CallRecord
            {
                CallId = CallId, AgentId = "agent-1", Direction = "inbound",
                FromNumber = "+15550001", ToNumber = "200", RemoteNumber = "+15550001",
                Status = "answered", StartedAt = 1_000, AnsweredAt = 4_400, EndedAt = 60_000,
                RingSeconds = 3, Billsec = 55, HangupCause = "NORMAL_CLEARING",
            }),

        ["missed_inbound_with_duplicates"] = new(
            [
                Row("b1", "incoming_call", 1_000, 1, Incoming("+15550001"), campaignId: "camp-7", leadId: "lead-9"),
                Row("b1", "incoming_call", 1_000, 1, Incoming("+15550001"), campaignId: "camp-7", leadId: "lead-9"),
                Row("b2", "call_transfer_requested", 5_000, 2),
                Row("b3", "call_hangup", 21_500, 3, Hangup(0, "ORIGINATOR_CANCEL")),
                Row("b3", "call_hangup", 21_500, 3, Hangup(0, "ORIGINATOR_CANCEL")),
            ],
            new CallRecord
            {
                CallId = CallId, AgentId = "agent-1", Direction = "inbound",
                FromNumber = "+15550001", RemoteNumber = "+15550001",
                Status = "missed", StartedAt = 1_000, EndedAt = 21_500,
                RingSeconds = 21, Billsec = 0, HangupCause = "ORIGINATOR_CANCEL",
                CampaignId = "camp-7", LeadId = "lead-9",
            }),

        ["outbound_answered_from_click_to_call"] = new(
            [
                Row("c1", "outgoing_call", 1_000, 1,
                    """{"call":{"uuid":"call-1","number":"+4930123","from":"+4940999"},"options":{"campaignId":42,"lead_id":"L-1"}}"""),
                Row("c2", "call_answered", 8_500, 2),
                Row("c2", "call_answered", 8_500, 2),
                Row("c3", "call_mute", 9_000, 3),
                Row("c4", "call_unmute", 9_500, 4),
                Row("c5", "call_hangup", 30_000, 5, Hangup("21", "normal_clearing")),
            ],
            new CallRecord
            {
                CallId = CallId, AgentId = "agent-1", Direction = "outbound",
                FromNumber = "+4940999", ToNumber = "+4930123", RemoteNumber = "+4930123",
                Status = "answered", StartedAt = 1_000, AnsweredAt = 8_500, EndedAt = 30_000,
                RingSeconds = 8, Billsec = 21, HangupCause = "normal_clearing",
                CampaignId = "42", LeadId = "L-1",
            }),

        ["hangup_only"] = new(
            [
                Row("d1", "call_hangup", 50_000, 9,
                    """{"call":{"uuid":"call-1","number":"+15550002"},"billsec":0,"cause":"NO_ANSWER"}""", agentId: "agent-2"),
                Row("d1", "call_hangup", 50_000, 9,
                    """{"call":{"uuid":"call-1","number":"+15550002"},"billsec":0,"cause":"NO_ANSWER"}""", agentId: "agent-2"),
            ],
            new CallRecord
            {
                CallId = CallId, AgentId = "agent-2", RemoteNumber = "+15550002",
                Status = "missed", StartedAt = 50_000, EndedAt = 50_000,
                RingSeconds = 0, Billsec = 0, HangupCause = "NO_ANSWER",
            }),

        ["answer_and_hangups_at_the_same_millisecond"] = new(
            [
                Row("e1", "incoming_call", 1_000, 1, Incoming("+15550001")),
                Row("e2", "call_answered", 5_000, 2),
                Row("e2", "call_answered", 5_000, 2),
                // Same millisecond: Seq decides which hangup is the first one.
                Row("e4", "call_hangup", 5_000, 4, Hangup(9, "OTHER")),
                Row("e3", "call_hangup", 5_000, 3, Hangup(0, "NORMAL_CLEARING")),
            ],
            new CallRecord
            {
                CallId = CallId, AgentId = "agent-1", Direction = "inbound",
                FromNumber = "+15550001", RemoteNumber = "+15550001",
                Status = "answered", StartedAt = 1_000, AnsweredAt = 5_000, EndedAt = 5_000,
                RingSeconds = 4, Billsec = 0, HangupCause = "NORMAL_CLEARING",
            }),

        ["failed_with_error_and_late_answer"] = new(
            [
                Row("f1", "incoming_call", 1_000, 1, Incoming("+15550001")),
                Row("f2", "error", 3_000, 2),
                Row("f2", "error", 3_000, 2),
                Row("f3", "call_hangup", 4_000, 3, Hangup(0)),
                Row("f4", "call_answered", 6_000, 4),
            ],
            new CallRecord
            {
                CallId = CallId, AgentId = "agent-1", Direction = "inbound",
                FromNumber = "+15550001", RemoteNumber = "+15550001",
                Status = "failed", StartedAt = 1_000, EndedAt = 4_000,
                RingSeconds = 3, Billsec = 0,
            }),

        ["answered_by_billsec_only"] = new(
            [
                Row("g1", "incoming_call", 1_000, 1, Incoming("+15550001")),
                Row("g2", "call_hangup", 40_000, 2, Hangup(30, "NORMAL_CLEARING")),
                Row("g2", "call_hangup", 40_000, 2, Hangup(30, "NORMAL_CLEARING")),
            ],
            new CallRecord
            {
                CallId = CallId, AgentId = "agent-1", Direction = "inbound",
                FromNumber = "+15550001", RemoteNumber = "+15550001",
                Status = "answered", StartedAt = 1_000, AnsweredAt = 10_000, EndedAt = 40_000,
                RingSeconds = 9, Billsec = 30, HangupCause = "NORMAL_CLEARING",
            }),
    };

    [Theory]
    [InlineData("answered_inbound_with_hold_and_mute")]
    [InlineData("missed_inbound_with_duplicates")]
    [InlineData("outbound_answered_from_click_to_call")]
    [InlineData("hangup_only")]
    [InlineData("answer_and_hangups_at_the_same_millisecond")]
    [InlineData("failed_with_error_and_late_answer")]
    [InlineData("answered_by_billsec_only")]
    public void Every_arrival_order_builds_the_same_record(string scenarioName)
    {
        var scenario = Scenarios[scenarioName];
        Assert.InRange(scenario.Events.Length, 1, 6);

        var canonical = scenario.Events
            .OrderBy(e => e.OccurredAt)
            .ThenBy(e => e.Seq)
            .ThenBy(e => e.EventId, StringComparer.Ordinal)
            .ToArray();
        var fromCanonical = CallRecordBuilder.Build(canonical);
        Assert.Equal(scenario.Expected, fromCanonical);

        var count = 0;
        foreach (var order in Permutations(scenario.Events))
        {
            count++;
            Assert.Equal(fromCanonical, CallRecordBuilder.Build(order));
        }

        Assert.Equal(Factorial(scenario.Events.Length), count);
    }

    [Fact]
    public void Permutation_generator_yields_every_order_exactly_once()
    {
        var orders = Permutations([0, 1, 2, 3]).Select(p => string.Join(",", p)).ToList();

        Assert.Equal(24, orders.Count);
        Assert.Equal(24, orders.Distinct(StringComparer.Ordinal).Count());
        Assert.All(orders, o => Assert.Equal("0,1,2,3", string.Join(",", o.Split(',').Order(StringComparer.Ordinal))));
    }

    private static IEnumerable<T[]> Permutations<T>(IReadOnlyList<T> items)
    {
        if (items.Count <= 1)
        {
            yield return items.ToArray();
            yield break;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var rest = items.Where((_, j) => j != i).ToArray();
            foreach (var tail in Permutations(rest))
            {
                yield return [items[i], .. tail];
            }
        }
    }

    private static int Factorial(int n) => n <= 1 ? 1 : n * Factorial(n - 1);
}
