using System.Collections.Concurrent;
using Hub.Store;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Api.Agents;

/// <summary>
/// The agent connections this node holds, in memory (to close a session's connections), each recorded in the
/// store's presence across nodes (<see cref="AgentPresence"/>).
/// Each local connection also holds one timer that closes it when its session expires (disposed on
/// disconnect), so an expired session's connections end at expiry, not at their next request.
/// </summary>
public sealed class AgentConnections(AgentPresence presence, IHubContext<AgentHub, IAgentClient> hub, TimeProvider clock,
    ILogger<AgentConnections> logger)
{
    public static readonly TimeSpan HeartbeatInterval = AgentPresence.HeartbeatInterval;

    /// <summary>The longest due time a timer takes; a later expiry is re-armed when this one fires.</summary>
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromDays(30);

    /// <summary>Revocation times come from other nodes' clocks: look back this much further than the last check.</summary>
    private static readonly TimeSpan RevocationOverlap = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, LocalConnection> _local = new(StringComparer.Ordinal);

    /// <summary>Epoch ms up to which revoked sessions were looked for; 0 before the first look.</summary>
    private long _revocationsCheckedAt;

    public int LocalCount => _local.Count;

    /// <summary>
    /// Records the connection; false, recording nothing, when its session already holds
    /// <see cref="LimitSettings.ConnectionsPerSession"/> live connections on all nodes together. The row goes in
    /// first and is counted after, so two nodes connecting the same session at once cannot both slip under the
    /// limit (at worst both are refused and the relays retry).
    /// </summary>
    public async Task<bool> AddAsync(HubCallerContext context, string tenantId, string agentId, string sessionId, DateTimeOffset sessionExpiresAt)
    {
        var connectionId = context.ConnectionId;
        if (!await presence.AddAsync(connectionId, tenantId, agentId, sessionId))
        {
            return false;
        }

        var local = new LocalConnection(context, sessionId, sessionExpiresAt);
        _local[connectionId] = local;
        ScheduleExpiry(local);
        return true;
    }

    public async Task RemoveAsync(string connectionId)
    {
        if (_local.TryRemove(connectionId, out var local))
        {
            local.DisposeTimer();
        }

        await presence.RemoveAsync(connectionId);
    }

    /// <summary>Tells this node's connections of a session that it ended, then closes them.</summary>
    public async Task CloseSessionAsync(string sessionId, string reason)
    {
        foreach (var (connectionId, local) in _local.Where(item => item.Value.SessionId == sessionId).ToList())
        {
            await CloseAsync(connectionId, local, reason);
        }
    }

    /// <summary>
    /// Closes this node's connections of sessions revoked since the last look. Sign-out tells every node
    /// through the bus at once; this catches a sign-out whose message never arrived (the bus was down),
    /// within one heartbeat.
    /// </summary>
    public async Task CloseRevokedSessionsAsync(CancellationToken cancellationToken)
    {
        var now = clock.NowMs();
        var since = (_revocationsCheckedAt == 0 ? now : _revocationsCheckedAt) - (long)RevocationOverlap.TotalMilliseconds;
        var held = _local.Values.Select(local => local.SessionId).ToHashSet(StringComparer.Ordinal);
        if (held.Count > 0)
        {
            foreach (var sessionId in (await presence.RevokedSinceAsync(since, cancellationToken)).Where(held.Contains))
            {
                await CloseSessionAsync(sessionId, "signed_out");
            }
        }

        _revocationsCheckedAt = now;
    }

    private async Task CloseAsync(string connectionId, LocalConnection local, string reason)
    {
        local.DisposeTimer();
        try
        {
            await hub.Clients.Client(connectionId).AuthRequired(new AuthRequiredPush(reason));
        }
        catch (Exception exception)
        {
            logger.LogDebug(exception, "Could not tell {ConnectionId} its session ended", connectionId);
        }

        // The push is written to the connection's transport, not yet sent: cut at once, the connection could drop it
        // (seen under load), and the relay would not learn why it was closed. A moment's grace lets it go out first.
        _ = AbortAfterGraceAsync(local.Context);
    }

    /// <summary>How long a closed session's connection may still send its <c>AuthRequired</c> push before it is cut.</summary>
    private static readonly TimeSpan AbortGrace = TimeSpan.FromMilliseconds(250);

    private static async Task AbortAfterGraceAsync(HubCallerContext context)
    {
        await Task.Delay(AbortGrace);
        context.Abort();
    }

    private void ScheduleExpiry(LocalConnection local)
    {
        var due = local.ExpiresAt - clock.GetUtcNow();
        if (due < TimeSpan.Zero)
        {
            due = TimeSpan.Zero;
        }

        local.SetTimer(clock.CreateTimer(static state => ((Expiry)state!).Fire(), new Expiry(this, local),
            due > MaxTimerDue ? MaxTimerDue : due, Timeout.InfiniteTimeSpan));
    }

    private void OnExpiryTimer(LocalConnection local)
    {
        var connectionId = local.Context.ConnectionId;
        if (!_local.TryGetValue(connectionId, out var current) || !ReferenceEquals(current, local))
        {
            return;
        }

        if (local.ExpiresAt > clock.GetUtcNow())
        {
            // Only for lifetimes past the longest timer due time: wait for the rest.
            ScheduleExpiry(local);
            return;
        }

        _ = CloseExpiredAsync(connectionId, local);
    }

    private async Task CloseExpiredAsync(string connectionId, LocalConnection local)
    {
        try
        {
            await CloseAsync(connectionId, local, "session_expired");
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not close {ConnectionId} at its session's expiry", connectionId);
        }
    }

    /// <summary>The timer's state: one small object per connection, no closure.</summary>
    private sealed class Expiry(AgentConnections owner, LocalConnection local)
    {
        public void Fire() => owner.OnExpiryTimer(local);
    }

    private sealed class LocalConnection(HubCallerContext context, string sessionId, DateTimeOffset expiresAt)
    {
        private readonly Lock _gate = new();
        private ITimer? _timer;
        private bool _disposed;

        public HubCallerContext Context { get; } = context;
        public string SessionId { get; } = sessionId;
        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public void SetTimer(ITimer timer)
        {
            ITimer? previous;
            lock (_gate)
            {
                if (_disposed)
                {
                    previous = timer;
                }
                else
                {
                    previous = _timer;
                    _timer = timer;
                }
            }

            previous?.Dispose();
        }

        public void DisposeTimer()
        {
            ITimer? timer;
            lock (_gate)
            {
                _disposed = true;
                timer = _timer;
                _timer = null;
            }

            timer?.Dispose();
        }
    }
}
