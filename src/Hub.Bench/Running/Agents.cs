using Hub.Tests.Support;

namespace Hub.Bench.Running;

/// <summary>One simulated agent: its id and its open connection to <c>/hubs/agent</c>.</summary>
public sealed record Agent(string Id, AgentConnection Client);

/// <summary>A tenant with its key, its agents signed in and connected.</summary>
public sealed class AgentPool : IAsyncDisposable
{
    private AgentPool(string tenantId, string key, IReadOnlyList<Agent> agents)
    {
        TenantId = tenantId;
        Key = key;
        Agents = agents;
    }

    public string TenantId { get; }
    public string Key { get; }
    public IReadOnlyList<Agent> Agents { get; }

    public static async Task<AgentPool> StartAsync(HubClient hub, string tenantName, int count, CancellationToken cancellationToken)
    {
        var (tenantId, key) = await hub.CreateTenantAsync(tenantName, cancellationToken);
        var agents = new Agent[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var id = $"agent-{i}";
                var session = await hub.CreateSessionAsync(key, id, token);
                agents[i] = new Agent(id, await hub.ConnectAgentAsync(session, token));
            });
        return new AgentPool(tenantId, key, agents);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Agents.Where(a => a is not null).Select(a => a.Client.DisposeAsync().AsTask()));
    }
}
