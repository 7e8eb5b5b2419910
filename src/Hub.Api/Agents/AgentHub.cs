using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Hub.Api.Auth;
using Hub.Api.Commands;
using Hub.Api.Ingest;
using Hub.Store.Config;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Api.Agents;

/// <summary>
/// <c>/hubs/agent</c>: the relay in an agent's CRM page publishes webphone events here and receives
/// screen-pops and commands. Arguments arrive as raw JSON so that a malformed envelope is answered with
/// a precise <c>invalid_event:</c> error instead of a binding failure, and the connection stays open.
/// </summary>
[Authorize(Policy = HubPolicies.AgentSession)]
public sealed class AgentHub(EventIngestor ingestor, AgentConnections connections, CommandStore commands, ContactPicks picks, TenantConfigReader configs) : Hub<IAgentClient>
{
    public static string GroupOf(string tenantId, string agentId) => $"agent:{tenantId}:{agentId}";

    public override async Task OnConnectedAsync()
    {
        var (tenantId, agentId) = Agent;
        var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(
            long.Parse(Context.User!.FindFirstValue(HubAuthenticationHandler.SessionExpiresAtClaim)!, CultureInfo.InvariantCulture));
        if (!await connections.AddAsync(Context, tenantId, agentId, Context.User!.FindFirstValue(HubClaims.SessionId)!, expiresAt))
        {
            // SignalR closes the connection with this message and never calls OnDisconnectedAsync: nothing of it was kept.
            throw new HubException("too_many_connections: this session already holds the most hub connections it may; close one (another tab) first");
        }

        await Groups.AddToGroupAsync(Context.ConnectionId, GroupOf(tenantId, agentId));
    }

    public override Task OnDisconnectedAsync(Exception? exception) => connections.RemoveAsync(Context.ConnectionId);

    /// <summary>
    /// Who this connection is. SignalR dispatches invocations only after <see cref="OnConnectedAsync"/>
    /// finished, so its answer also tells the relay the agent is registered for pushes and dials. It also
    /// carries the account's effective <c>webphone_origins</c>: a relay whose webphone is not among them stops.
    /// </summary>
    public async Task<HelloResponse> Hello()
    {
        var (tenantId, agentId) = Agent;
        var config = await configs.ReadCachedAsync(tenantId, Context.ConnectionAborted);
        return new HelloResponse(tenantId, agentId, Context.ConnectionId, config.Config.WebphoneOrigins);
    }

    public Task<PublishAck> Publish(JsonElement envelope)
    {
        var (tenantId, agentId) = Agent;
        // Not cancelled by a dropped connection: once the event is on its way, its publish completes.
        return ingestor.PublishAsync(tenantId, agentId, envelope);
    }

    public Task<IReadOnlyList<PublishAck>> PublishBatch(JsonElement envelopes)
    {
        var (tenantId, agentId) = Agent;
        return ingestor.PublishBatchAsync(tenantId, agentId, envelopes);
    }

    public Task CommandResult(JsonElement result)
    {
        var (tenantId, agentId) = Agent;
        return commands.RecordResultAsync(tenantId, agentId, result, Context.ConnectionAborted);
    }

    /// <summary><c>PickContact({call_id, external_id})</c>: the agent chose this contact among the pop's matches.</summary>
    public Task PickContact(JsonElement pick)
    {
        var (tenantId, agentId) = Agent;
        return picks.PickAsync(tenantId, agentId, pick, Context.ConnectionAborted);
    }

    private (string TenantId, string AgentId) Agent =>
        (Context.User!.FindFirstValue(HubClaims.TenantId)!, Context.User!.FindFirstValue(HubClaims.AgentId)!);
}
