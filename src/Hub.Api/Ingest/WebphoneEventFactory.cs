using System.Text.Json;
using Hub.Contracts;

namespace Hub.Api.Ingest;

/// <summary>Maps a validated envelope to its bus message: one record per known type, a generic one otherwise.</summary>
public static class WebphoneEventFactory
{
    /// <summary>The bus message type an event of this webphone type becomes (what <see cref="Create"/> makes of it).</summary>
    public static Type MessageTypeFor(string type) => type switch
    {
        WebphoneEventTypes.Registered => typeof(AgentRegistered),
        WebphoneEventTypes.Unregistered => typeof(AgentUnregistered),
        WebphoneEventTypes.RegistrationFailed => typeof(AgentRegistrationFailed),
        WebphoneEventTypes.IncomingCall => typeof(IncomingCallReceived),
        WebphoneEventTypes.OutgoingCall => typeof(OutgoingCallStarted),
        WebphoneEventTypes.CallAnswered => typeof(CallAnswered),
        WebphoneEventTypes.CallHangup => typeof(CallHungUp),
        WebphoneEventTypes.CallHold => typeof(CallHeld),
        WebphoneEventTypes.CallUnhold => typeof(CallUnheld),
        WebphoneEventTypes.CallMute => typeof(CallMuted),
        WebphoneEventTypes.CallUnmute => typeof(CallUnmuted),
        WebphoneEventTypes.Error => typeof(WebphoneErrorReported),
        _ => typeof(WebphoneEventReceived),
    };

    public static WebphoneEvent Create(EventEnvelope envelope, string tenantId, string agentId, DateTimeOffset receivedAt)
    {
        var payload = envelope.Payload;
        // The same reader as the workers' call record: the bus message says what the stored call will say.
        var fields = WebphonePayload.Read(payload);
        WebphoneEvent message = envelope.Type switch
        {
            WebphoneEventTypes.Registered => new AgentRegistered(),
            WebphoneEventTypes.Unregistered => new AgentUnregistered(),
            WebphoneEventTypes.RegistrationFailed => new AgentRegistrationFailed { Reason = fields.Reason },
            // The validator made sure these have their number and billsec.
            WebphoneEventTypes.IncomingCall => new IncomingCallReceived { Number = fields.Number! },
            WebphoneEventTypes.OutgoingCall => new OutgoingCallStarted { Number = fields.Number! },
            WebphoneEventTypes.CallAnswered => new CallAnswered(),
            WebphoneEventTypes.CallHangup => new CallHungUp { Billsec = fields.Billsec!.Value, HangupCause = fields.HangupCause },
            WebphoneEventTypes.CallHold => new CallHeld(),
            WebphoneEventTypes.CallUnhold => new CallUnheld(),
            WebphoneEventTypes.CallMute => new CallMuted(),
            WebphoneEventTypes.CallUnmute => new CallUnmuted(),
            WebphoneEventTypes.Error => new WebphoneErrorReported { Message = fields.Message },
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
}
