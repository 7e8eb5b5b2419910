using System.Net.Sockets;
using System.Text.Json;

namespace Hub.Tests.Fixtures;

/// <summary>
/// Testcontainers' Docker client asks for API 1.44 unless told otherwise, which Debian 12's engine
/// (docker.io 20.10, API 1.41) refuses; DOCKER_API_VERSION, read when Testcontainers' settings are first
/// used, tells it. Asks a local engine (unix socket) which version it speaks, when nobody has said.
/// </summary>
internal static class DockerApiVersion
{
    public static async Task MatchLocalEngineAsync()
    {
        const string variable = "DOCKER_API_VERSION";
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST") ?? "unix:///var/run/docker.sock";
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } || !host.StartsWith("unix://", StringComparison.Ordinal))
        {
            return;
        }
        var socket = host["unix://".Length..];
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellation) =>
            {
                var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellation);
                return new NetworkStream(connection, ownsSocket: true);
            },
        }) { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var version = JsonDocument.Parse(await http.GetStringAsync("http://docker/version"));
            var api = version.RootElement.GetProperty("ApiVersion").GetString();
            if (System.Version.TryParse(api, out var parsed) && parsed < new System.Version(1, 44))
            {
                Environment.SetEnvironmentVariable(variable, api);
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or SocketException or TaskCanceledException)
        {
            // No engine there: Testcontainers' own check below says so, with the endpoints it tried.
        }
    }
}
