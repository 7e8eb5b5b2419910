using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Hub.Tests.Support;

/// <summary>The REST calls the bench and the fault tests make to Hub processes as an admin and as a CRM backend, and agent sign-in over SignalR.</summary>
public sealed class HubClient(string baseUrl) : IDisposable
{
    private static readonly JsonSerializerOptions Json = AgentConnection.Json;

    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 256 })
    {
        BaseAddress = new Uri(baseUrl),
        Timeout = TimeSpan.FromSeconds(60),
    };

    public string BaseUrl { get; } = baseUrl;

    public HttpClient Http => _http;

    /// <summary>A tenant and a key of it with every scope the bench needs.</summary>
    public async Task<(string TenantId, string Key)> CreateTenantAsync(string name, CancellationToken cancellationToken)
    {
        var tenant = await SendAsync(HttpMethod.Post, "/api/v1/tenants", HubProcess.AdminKey, null, new { name }, cancellationToken);
        var tenantId = tenant.GetProperty("id").GetString()!;
        var key = await SendAsync(HttpMethod.Post, "/api/v1/api-keys", HubProcess.AdminKey, tenantId,
            new { name = "bench", scopes = new[] { "contacts", "tokens", "dial", "calls:read" } }, cancellationToken);
        return (tenantId, key.GetProperty("key").GetString()!);
    }

    /// <summary>As the CRM backend and the relay do: an embed token, exchanged once for a session token.</summary>
    public async Task<string> CreateSessionAsync(string key, string agentId, CancellationToken cancellationToken)
    {
        var embed = await SendAsync(HttpMethod.Post, "/api/v1/webphone/embed-token", key, null, new { agent_id = agentId }, cancellationToken);
        var session = await SendAsync(HttpMethod.Post, "/api/v1/sessions", embed.GetProperty("embed_token").GetString()!, null, null, cancellationToken);
        return session.GetProperty("session_token").GetString()!;
    }

    /// <summary>Opens <c>/hubs/agent</c> with the session token and waits for <c>Hello</c>: from then on pops and dials reach it.</summary>
    public async Task<AgentConnection> ConnectAgentAsync(string sessionToken, CancellationToken cancellationToken)
    {
        var agent = await AgentConnection.StartAsync(CreateConnection(BaseUrl + "/hubs/agent", sessionToken), cancellationToken);
        await agent.InvokeAsync("Hello");
        return agent;
    }

    /// <summary>
    /// The real client with nothing the measurement does not need: WebSockets straight away (no negotiate round
    /// trip), the JSON protocol the relay speaks, SignalR's pings as the only heartbeat.
    /// </summary>
    public static HubConnection CreateConnection(string url, string? accessToken = null) =>
        new HubConnectionBuilder()
            .WithUrl(url, options =>
            {
                options.Transports = HttpTransportType.WebSockets;
                options.SkipNegotiation = true;
                options.WebSocketConfiguration = socket => socket.KeepAliveInterval = TimeSpan.Zero;
                if (accessToken is not null)
                {
                    options.AccessTokenProvider = () => Task.FromResult<string?>(accessToken);
                }
            })
            .AddHubJson()
            .Build();

    public Task PutContactsAsync(string key, object contacts, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, "/api/v1/contacts", key, null, contacts, cancellationToken);

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, string bearer, string? account, object? body, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, path, bearer, account, body, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HubHttpException(response.StatusCode, $"{method} {path} answered {(int)response.StatusCode}: {text}");
        }

        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, string bearer, string? account, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (account is not null)
        {
            request.Headers.Add("X-Account-ID", account);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }

        return await _http.SendAsync(request, cancellationToken);
    }

    public void Dispose() => _http.Dispose();
}

public sealed class HubHttpException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}
