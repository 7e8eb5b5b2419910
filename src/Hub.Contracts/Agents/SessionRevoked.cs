namespace Hub.Contracts;

/// <summary>
/// A session ended before its expiry (for example, the agent signed out). Published by the Api node
/// that revoked it; every Api node receives a copy and closes the session's connections it holds,
/// which hear <c>AuthRequired({reason})</c> first.
/// </summary>
public sealed record SessionRevoked
{
    public required string TenantId { get; init; }
    public required string SessionId { get; init; }
    public required string Reason { get; init; }
}
