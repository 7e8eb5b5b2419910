using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hub.Tests.Support;

/// <summary>What a CRM integrator does with the REST API, in the order API.md describes it.</summary>
public static class HubScenario
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static readonly string[] CrmScopes = ["contacts", "dial", "tokens", "calls:read", "config", "webhooks"];

    /// <summary>A new tenant under the master, and a client holding a key of that tenant.</summary>
    public static async Task<(string TenantId, HttpClient Client)> CreateTenantAsync(HubApiFactory factory, string name, string[]? scopes = null,
        HttpClient? parent = null)
    {
        var admin = parent ?? factory.Admin();
        var tenant = await ReadAsync(await admin.PostAsJsonAsync("/api/v1/tenants", new { name }), HttpStatusCode.Created);
        var tenantId = tenant["id"]!.GetValue<string>();
        var key = await CreateKeyAsync(admin, tenantId, scopes ?? CrmScopes);
        return (tenantId, factory.ClientWithKey(key));
    }

    public static async Task<string> CreateKeyAsync(HttpClient client, string? accountId, string[] scopes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/api-keys") { Content = JsonContent.Create(new { name = "crm", scopes }) };
        if (accountId is not null)
        {
            request.Headers.Add("X-Account-ID", accountId);
        }

        var created = await ReadAsync(await client.SendAsync(request), HttpStatusCode.Created);
        return created["key"]!.GetValue<string>();
    }

    public static async Task<string> MintEmbedTokenAsync(HttpClient crm, string agentId)
    {
        var minted = await ReadAsync(await crm.PostAsJsonAsync("/api/v1/webphone/embed-token", new { agent_id = agentId }), HttpStatusCode.OK);
        return minted["embed_token"]!.GetValue<string>();
    }

    public static async Task<HttpResponseMessage> ExchangeAsync(HubApiFactory factory, string embedToken)
    {
        using var anonymous = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/sessions");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", embedToken);
        return await anonymous.SendAsync(request);
    }

    public static async Task<string> SignInAsync(HubApiFactory factory, HttpClient crm, string agentId)
    {
        var session = await ReadAsync(await ExchangeAsync(factory, await MintEmbedTokenAsync(crm, agentId)), HttpStatusCode.OK);
        return session["session_token"]!.GetValue<string>();
    }

    public static async Task<AgentConnection> ConnectAgentAsync(HubApiFactory factory, HttpClient crm, string agentId) =>
        await factory.ConnectAgentAsync(await SignInAsync(factory, crm, agentId));

    public static async Task<JsonNode> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? new JsonObject() : JsonNode.Parse(body)!;
    }

    /// <summary>Asserts a problem+json answer with this status and code.</summary>
    public static async Task<JsonNode> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var problem = await ReadAsync(response, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, problem["code"]?.GetValue<string>());
        return problem;
    }

    /// <summary>A relay envelope as API.md section 2 defines it.</summary>
    public static object Envelope(string type, object? payload, Guid? eventId = null, long seq = 1, DateTimeOffset? occurredAt = null) => new Dictionary<string, object?>
    {
        ["event_id"] = (eventId ?? Guid.NewGuid()).ToString(),
        ["seq"] = seq,
        ["occurred_at"] = (occurredAt ?? DateTimeOffset.UtcNow).ToString("O"),
        ["type"] = type,
        ["payload"] = payload,
    };

    public static object Call(string uuid, string? number = null) => number is null
        ? new { call = new { uuid } }
        : new { call = new { uuid, number } };
}
