namespace Hub.Tests.Fixtures;

/// <summary>
/// One RabbitMQ node for the whole test run (a container started on first use, removed when the test
/// process exits); use as <c>IClassFixture&lt;RabbitMqFixture&gt;</c> or a collection fixture and call
/// <see cref="CreateVirtualHostAsync"/> to isolate each test host. The virtual hosts a fixture created
/// are deleted when it is disposed. Tests that stop the broker must start their own <see cref="RabbitMqServer"/>.
/// With <c>HUB_TEST_RABBITMQ_URL</c> set, <see cref="AmqpUrl"/> is that URL, and virtual hosts are created
/// on that broker through its management API: at <c>HUB_TEST_RABBITMQ_MANAGEMENT_URL</c> if set, else
/// http on port 15672 of the same host with the same user.
/// </summary>
public sealed class RabbitMqFixture : IAsyncLifetime
{
    public const string UrlVariable = "HUB_TEST_RABBITMQ_URL";
    public const string ManagementUrlVariable = "HUB_TEST_RABBITMQ_MANAGEMENT_URL";

    private static readonly Lazy<Task<RabbitMqServer>> Shared = new(RabbitMqServer.StartAsync);

    private readonly List<string> created = [];
    private string? amqpUrl;
    private Uri? managementUrl;

    /// <summary>The default virtual host of the shared (or external) broker.</summary>
    public string AmqpUrl => amqpUrl ?? throw new InvalidOperationException("The fixture has not been initialized.");

    public bool IsExternal { get; private set; }

    /// <summary>The management API the virtual hosts are created through.</summary>
    internal Uri ManagementUrl => managementUrl ?? throw new InvalidOperationException("The fixture has not been initialized.");

    public Task InitializeAsync() =>
        InitializeAsync(Environment.GetEnvironmentVariable(UrlVariable), Environment.GetEnvironmentVariable(ManagementUrlVariable));

    /// <summary>With an AMQP URL, that broker (and its management API); without, the shared container.</summary>
    internal async Task InitializeAsync(string? external, string? externalManagement)
    {
        IsExternal = !string.IsNullOrWhiteSpace(external);
        if (IsExternal)
        {
            amqpUrl = external;
            managementUrl = string.IsNullOrWhiteSpace(externalManagement)
                ? DefaultManagementUrl(new Uri(external!))
                : new Uri(externalManagement);
        }
        else
        {
            var server = await Shared.Value;
            amqpUrl = server.AmqpUrl;
            managementUrl = server.ManagementUrl;
        }
    }

    public async Task<string> CreateVirtualHostAsync()
    {
        var url = await RabbitMqManagement.CreateVirtualHostAsync(AmqpUrl, ManagementUrl);
        lock (created)
        {
            created.Add(url);
        }
        return url;
    }

    public async Task DisposeAsync()
    {
        string[] virtualHosts;
        lock (created)
        {
            virtualHosts = [.. created];
            created.Clear();
        }
        foreach (var url in virtualHosts)
        {
            await RabbitMqManagement.DeleteVirtualHostAsync(url, ManagementUrl);
        }
    }

    // amqp://user:pass@host:5672/vhost -> http://user:pass@host:15672/ (guest:guest when the URL names no user, as AMQP clients assume).
    internal static Uri DefaultManagementUrl(Uri amqp) =>
        new UriBuilder("http", amqp.Host, 15672)
        {
            UserName = amqp.UserInfo.Length > 0 ? amqp.UserInfo.Split(':', 2)[0] : "guest",
            Password = amqp.UserInfo.Contains(':') ? amqp.UserInfo.Split(':', 2)[1] : "guest",
        }.Uri;
}
