namespace Hub.Api.Agents;

/// <summary>
/// Keeps this node's presence rows alive, and removes them on a clean shutdown; at each beat also closes
/// connections of sessions revoked elsewhere whose bus message did not arrive.
/// </summary>
internal sealed class NodeHeartbeat(AgentPresence presence, AgentConnections connections, TimeProvider clock, ILogger<NodeHeartbeat> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the server takes connections, so presence rows always have a live node.
        await presence.HeartbeatAsync(starting: true, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await presence.LeaveAsync(cancellationToken);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not remove this node's presence; it expires by itself");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(AgentPresence.HeartbeatInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await presence.HeartbeatAsync(starting: false, stoppingToken);
                await connections.CloseRevokedSessionsAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(exception, "Presence heartbeat failed; retrying at the next tick");
            }
        }
    }
}
