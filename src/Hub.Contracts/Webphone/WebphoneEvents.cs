using System.Text.Json;

namespace Hub.Contracts;

/// <summary>Fields every webphone event carries; concrete events add what their type is about.</summary>
public abstract record WebphoneEvent : IWebphoneEvent
{
    public Guid EventId { get; init; }
    public string TenantId { get; init; } = "";
    public string AgentId { get; init; } = "";
    public string? CallId { get; init; }
    public long Seq { get; init; }
    public string Type { get; init; } = "";
    public DateTimeOffset OccurredAt { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public JsonElement Payload { get; init; }
}

/// <summary><c>registered</c>: the webphone registered with its SIP server and can take calls.</summary>
public sealed record AgentRegistered : WebphoneEvent;

/// <summary><c>unregistered</c>.</summary>
public sealed record AgentUnregistered : WebphoneEvent;

/// <summary><c>registration_failed</c>.</summary>
public sealed record AgentRegistrationFailed : WebphoneEvent
{
    public string? Reason { get; init; }
}

/// <summary><c>incoming_call</c>: <c>payload.call.uuid</c>, <c>payload.call.number</c> (the caller).</summary>
public sealed record IncomingCallReceived : WebphoneEvent
{
    public required string Number { get; init; }
}

/// <summary><c>outgoing_call</c>: <c>payload.call.uuid</c>, <c>payload.call.number</c> (the callee).</summary>
public sealed record OutgoingCallStarted : WebphoneEvent
{
    public required string Number { get; init; }
}

/// <summary><c>call_answered</c>.</summary>
public sealed record CallAnswered : WebphoneEvent;

/// <summary><c>call_hangup</c>: <c>billsec</c> as the webphone reports it.</summary>
public sealed record CallHungUp : WebphoneEvent
{
    public required int Billsec { get; init; }
    public string? HangupCause { get; init; }
}

/// <summary><c>call_hold</c>.</summary>
public sealed record CallHeld : WebphoneEvent;

/// <summary><c>call_unhold</c>.</summary>
public sealed record CallUnheld : WebphoneEvent;

/// <summary><c>call_mute</c>.</summary>
public sealed record CallMuted : WebphoneEvent;

/// <summary><c>call_unmute</c>.</summary>
public sealed record CallUnmuted : WebphoneEvent;

/// <summary><c>error</c>: the webphone reported an error.</summary>
public sealed record WebphoneErrorReported : WebphoneEvent
{
    public string? Message { get; init; }
}

/// <summary>
/// Any event type the hub does not know yet. It is stored and forwarded like the others, never dropped,
/// so a newer webphone works with an older hub.
/// </summary>
public sealed record WebphoneEventReceived : WebphoneEvent;
