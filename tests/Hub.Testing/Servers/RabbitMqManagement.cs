using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Hub.Tests.Fixtures;

/// <summary>
/// Virtual hosts through the management plugin's HTTP API, which any broker with the plugin offers (the
/// containers here, and an existing broker named by HUB_TEST_RABBITMQ_URL): one virtual host per test
/// host, so test hosts never consume each other's messages.
/// </summary>
internal static class RabbitMqManagement
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Adds <c>hub-&lt;guid&gt;</c>, gives the AMQP URL's user all permissions on it, returns its AMQP URL.</summary>
    public static async Task<string> CreateVirtualHostAsync(string amqpUrl, Uri managementUrl)
    {
        var virtualHost = $"hub-{Guid.NewGuid():N}";
        var userInfo = new Uri(amqpUrl).UserInfo;
        var user = userInfo.Length > 0 ? Uri.UnescapeDataString(userInfo.Split(':')[0]) : "guest";
        await SendAsync(HttpMethod.Put, managementUrl, $"api/vhosts/{virtualHost}", new { });
        await SendAsync(HttpMethod.Put, managementUrl, $"api/permissions/{virtualHost}/{Uri.EscapeDataString(user)}",
            new { configure = ".*", write = ".*", read = ".*" });
        return new UriBuilder(amqpUrl) { Path = "/" + virtualHost }.Uri.ToString();
    }

    public static Task DeleteVirtualHostAsync(string virtualHostUrl, Uri managementUrl) =>
        SendAsync(HttpMethod.Delete, managementUrl, $"api/vhosts/{Uri.EscapeDataString(VirtualHost(virtualHostUrl))}", null);

    public static string VirtualHost(string amqpUrl) => Uri.UnescapeDataString(new Uri(amqpUrl).AbsolutePath.TrimStart('/'));

    private static async Task SendAsync(HttpMethod method, Uri managementUrl, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, new Uri(managementUrl, path));
        var user = managementUrl.UserInfo.Split(':', 2).Select(Uri.UnescapeDataString).ToArray();
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user[0]}:{user.ElementAtOrDefault(1)}")));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(request);
        }
        catch (HttpRequestException exception)
        {
            throw new InvalidOperationException(
                $"The RabbitMQ management API at {Redacted(managementUrl)} is unreachable ({exception.Message}); " +
                $"virtual hosts are created through it. Enable the rabbitmq_management plugin, or set " +
                $"{RabbitMqFixture.ManagementUrlVariable} to where it listens.", exception);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException(
                    $"{method} {path} on the RabbitMQ management API at {Redacted(managementUrl)}: {(int)response.StatusCode} " +
                    await response.Content.ReadAsStringAsync());
            }
        }
    }

    private static string Redacted(Uri url) => new UriBuilder(url) { UserName = "", Password = "" }.Uri.ToString();
}
