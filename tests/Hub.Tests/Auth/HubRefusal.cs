using System.Net;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Auth;

/// <summary>How the agent hub turns away a session token that no longer authenticates, as a SignalR client meets it.</summary>
internal static class HubRefusal
{
    /// <summary>
    /// The SignalR client's two requests (negotiate with the token as a Bearer header, then the WebSocket
    /// upgrade with it as <c>access_token</c>) are both refused with 401 before any hub code runs: the
    /// negotiate with problem+json <c>unauthorized</c>, as protocol.md's error table documents. The real client
    /// surfaces the negotiate's refusal as <see cref="HttpRequestException"/> with its status, and TestServer's
    /// WebSocket client an upgrade's refusal as an incomplete handshake with its status.
    /// </summary>
    public static async Task AssertSessionRefusedAsync(HubApiFactory node, string sessionToken)
    {
        using var client = node.ClientWithKey(sessionToken);
        await AssertProblemAsync(await client.PostAsync("/hubs/agent/negotiate?negotiateVersion=1", null), HttpStatusCode.Unauthorized, "unauthorized");

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => node.ConnectAgentAsync(sessionToken));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // A client that skips the negotiate meets the same refusal on the upgrade itself.
        var upgradeRefused = await Assert.ThrowsAsync<InvalidOperationException>(
            () => AgentConnection.StartAsync(node.CreateAgentConnection(sessionToken, skipNegotiation: true)));
        Assert.Contains("status code: 401", upgradeRefused.Message, StringComparison.Ordinal);
    }

    /// <summary>The same negotiate succeeding, so a refusal above is the credential's and not a wrong path.</summary>
    public static async Task AssertSessionNegotiatesAsync(HubApiFactory node, string sessionToken)
    {
        using var client = node.ClientWithKey(sessionToken);
        var negotiated = await ReadAsync(await client.PostAsync("/hubs/agent/negotiate?negotiateVersion=1", null), HttpStatusCode.OK);
        Assert.False(string.IsNullOrEmpty(negotiated["connectionToken"]?.GetValue<string>()));
    }
}
