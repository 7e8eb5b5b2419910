using System.Net;
using Hub.Api.Agents;
using Hub.Tests.EventStream;
using Hub.Tests.Support;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Security;

/// <summary>
/// One credential cannot hold any number of long-lived responses: event streams per key (default 10, per node) and
/// hub connections per session (default 20, across nodes). Refused ones hold nothing; closed ones give their slot back.
/// </summary>
public sealed class CredentialCapTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly HubApiFactory _factory = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task The_eleventh_stream_of_a_key_is_429_too_many_streams_and_closing_one_frees_its_slot()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var streams = new List<SseStream>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                streams.Add(await SseStream.OpenAsync(crm, "", null, timeout.Token));
            }

            using (var refused = await crm.GetAsync("/api/v1/events/stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token))
            {
                // The status first: an accepted stream's body never ends, so reading it would only wait out the timeout.
                Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
                await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "too_many_streams");
            }

            // The limit is the key's, not the tenant's: another key of the account still opens one.
            using var other = _factory.ClientWithKey(await CreateKeyAsync(_factory.Admin(), tenantId, ["webhooks"]));
            streams.Add(await SseStream.OpenAsync(other, "", null, timeout.Token));

            await streams[0].DisposeAsync();
            streams.RemoveAt(0);
            await Eventually.OpensAsync(crm, timeout.Token);
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_21st_hub_connection_of_a_session_is_refused_with_too_many_connections_and_holds_no_slot()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var token = await SignInAsync(_factory, crm, "agent-7");
        var connections = _factory.Services.GetRequiredService<AgentConnections>();
        var presence = _factory.Services.GetRequiredService<AgentPresence>();
        var agents = new List<AgentConnection>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                agents.Add(await _factory.ConnectAgentAsync(token));
            }

            // The hub refuses in OnConnectedAsync, after the handshake: the client sees the server close the connection.
            await using (var refusedAgent = await AgentConnection.StartAsync(_factory.CreateAgentConnection(token)))
            {
                var refused = Assert.IsType<HubException>(await refusedAgent.Closed.WaitAsync(Timeout));
                Assert.Contains("HubException: too_many_connections:", refused.Message, StringComparison.Ordinal);
            }

            // The refused connection left nothing behind: neither in presence nor among this node's connections.
            Assert.Equal(20, await presence.CountOnlineAsync(tenantId, "agent-7", CancellationToken.None));
            Assert.Equal(20, connections.LocalCount);

            // The limit is the session's: the same agent signed in again (another browser) connects.
            agents.Add(await _factory.ConnectAgentAsync(await SignInAsync(_factory, crm, "agent-7")));

            // Closing one of the session's connections gives its slot back.
            await agents[0].DisposeAsync();
            agents.RemoveAt(0);
            using var timeout = new CancellationTokenSource(Timeout);
            while (await presence.CountOnlineAsync(tenantId, "agent-7", timeout.Token) > 20)
            {
                await Task.Delay(20, timeout.Token);
            }

            agents.Add(await _factory.ConnectAgentAsync(token));
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }

    private static class Eventually
    {
        /// <summary>The server frees a stream's slot once it notices the client left, a moment after the client closed.</summary>
        public static async Task OpensAsync(HttpClient client, CancellationToken cancellationToken)
        {
            while (true)
            {
                using var response = await client.GetAsync("/api/v1/events/stream", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (response.StatusCode != HttpStatusCode.TooManyRequests)
                {
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    return;
                }

                await Task.Delay(20, cancellationToken);
            }
        }
    }
}
