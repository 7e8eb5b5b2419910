using Hub.Tests.Support;

namespace Hub.Tests.Faults;

/// <summary>Hub.Api and Hub.Workers as real processes on a test's servers, and relay-like agents of a new tenant on them.</summary>
public sealed class FaultTopology(string postgres, string rabbitMq, string test)
{
    public string Postgres { get; } = postgres;

    /// <summary>Each process's console, kept after the run for a failure's diagnosis.</summary>
    public string LogDirectory { get; } = Path.Combine(Path.GetTempPath(), "hub-tests", "faults", $"{test}-{Guid.NewGuid():N}");

    private Dictionary<string, string> Settings(string name)
    {
        var settings = HubProcess.Production(Postgres, rabbitMq);
        // The certificate every test host of the run shares, so in-process hosts and these read one key ring.
        settings["Hub__DataProtection__Certificate"] = TestKeyRing.SharedCertificate;
        // A refused publish during a broker outage is answered within this, so agents retry soon.
        settings["Hub__PublishTimeout"] = "00:00:02";
        settings["Hub__NodeId"] = name;
        return settings;
    }

    public Task<HubProcess> StartWorkersAsync(string name) => HubProcess.StartAsync("Hub.Workers", name, Settings(name), LogDirectory);

    public Task<HubProcess> StartApiAsync(string name) => HubProcess.StartAsync("Hub.Api", name, Settings(name), LogDirectory);

    /// <summary>A tenant, and <paramref name="count"/> signed-in agents of it that try <paramref name="apiNodes"/> in this order.</summary>
    public static async Task<(string TenantId, IReadOnlyList<RelayAgent> Agents)> SignInAgentsAsync(IReadOnlyList<string> apiNodes, int count)
    {
        using var crm = new HubClient(apiNodes[0]);
        var (tenantId, key) = await crm.CreateTenantAsync("Acme", CancellationToken.None);
        var agents = new List<RelayAgent>();
        for (var i = 0; i < count; i++)
        {
            var agentId = $"agent-{i}";
            var session = await crm.CreateSessionAsync(key, agentId, CancellationToken.None);
            agents.Add(new RelayAgent(agentId, apiNodes.Select(node => Connector(node, session)).ToList()));
        }

        return (tenantId, agents);
    }

    private static Func<CancellationToken, Task<AgentConnection>> Connector(string node, string session) =>
        async cancellationToken =>
        {
            var agent = await AgentConnection.StartAsync(HubClient.CreateConnection(node + "/hubs/agent", session), cancellationToken);
            try
            {
                await agent.InvokeAsync("Hello");
                return agent;
            }
            catch
            {
                await agent.DisposeAsync();
                throw;
            }
        };
}
