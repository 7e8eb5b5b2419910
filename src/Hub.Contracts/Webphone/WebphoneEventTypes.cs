namespace Hub.Contracts;

/// <summary>The webphone's event type names (the Zorio protocol, API.md section 2), as the relay forwards them.</summary>
public static class WebphoneEventTypes
{
    public const string Registered = "registered";
    public const string Unregistered = "unregistered";
    public const string RegistrationFailed = "registration_failed";
    public const string IncomingCall = "incoming_call";
    public const string OutgoingCall = "outgoing_call";
    public const string CallAnswered = "call_answered";
    public const string CallHangup = "call_hangup";
    public const string CallHold = "call_hold";
    public const string CallUnhold = "call_unhold";
    public const string CallMute = "call_mute";
    public const string CallUnmute = "call_unmute";
    public const string Error = "error";

    /// <summary>Every type the hub knows; any other is still accepted, stored and forwarded as a generic event.</summary>
    public static readonly IReadOnlySet<string> Known = new HashSet<string>(StringComparer.Ordinal)
    {
        Registered, Unregistered, RegistrationFailed, IncomingCall, OutgoingCall, CallAnswered, CallHangup,
        CallHold, CallUnhold, CallMute, CallUnmute, Error,
    };
}
