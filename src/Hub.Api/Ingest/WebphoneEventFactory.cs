using System.Text.Json;
using Hub.Contracts;

namespace Hub.Api.Ingest;

/// <summary>Maps a validated envelope to its bus message: one record per known type, a generic one otherwise.</summary>
public static class WebphoneEventFactory
{
    public static WebphoneEvent Create(EventEnvelope envelope, string tenantId, string agentId, DateTimeOffset receivedAt)
    {
        var payload = envelope.Payload;
        var number = envelope.Payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty("call", out var call)
                     && call.ValueKind == JsonValueKind.Object && call.TryGetProperty("number", out var n)
            ? n.ValueKind == JsonValueKind.String ? n.GetString() : n.GetRawText()
            : null;

        WebphoneEvent message = envelope.Type switch
        {
            "registered" => new AgentRegistered(),
            "unregistered" => new AgentUnregistered(),
            "registration_failed" => new AgentRegistrationFailed { Reason = Text(payload, "reason") ?? Text(payload, "message") },
            "incoming_call" => new IncomingCallReceived { Number = number! },
            "outgoing_call" => new OutgoingCallStarted { Number = number! },
            "call_answered" => new CallAnswered(),
            "call_hangup" => new CallHungUp
            {
                Billsec = payload.GetProperty("billsec").GetInt32(),
                HangupCause = Text(payload, "cause") ?? Text(payload, "hangup_cause"),
            },
            "call_hold" => new CallHeld(),
            "call_unhold" => new CallUnheld(),
            "call_mute" => new CallMuted(),
            "call_unmute" => new CallUnmuted(),
            "error" => new WebphoneErrorReported { Message = Text(payload, "message") },
            _ => new WebphoneEventReceived(),
        };

        return message with
        {
            EventId = envelope.EventId,
            TenantId = tenantId,
            AgentId = agentId,
            CallId = envelope.CallId,
            Seq = envelope.Seq,
            Type = envelope.Type,
            OccurredAt = envelope.OccurredAt,
            ReceivedAt = receivedAt,
            Payload = payload,
        };
    }

    private static string? Text(JsonElement payload, string name) =>
        payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
