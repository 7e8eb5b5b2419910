using System.Text;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Xunit.Abstractions;

namespace Hub.Tests.Fixtures;

public sealed class FixtureTests(PostgresFixture postgres, RabbitMqFixture rabbitMq, ITestOutputHelper output)
    : IClassFixture<PostgresFixture>, IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task Postgres_fixture_gives_an_empty_database_per_request()
    {
        var first = await postgres.CreateDatabaseAsync();
        var second = await postgres.CreateDatabaseAsync();

        Assert.NotEqual(Database(first), Database(second));
        Assert.StartsWith("hub_", Database(first), StringComparison.Ordinal);
        Assert.Equal(Database(first), await ScalarAsync<string>(first, "SELECT current_database()"));
        Assert.Equal(Database(second), await ScalarAsync<string>(second, "SELECT current_database()"));
        Assert.Equal(0L, await PublicTableCountAsync(first));
        Assert.Equal(0L, await PublicTableCountAsync(second));

        await ScalarAsync<int>(first, "CREATE TABLE only_here (id int); SELECT 1");
        Assert.Equal(1L, await PublicTableCountAsync(first));
        Assert.Equal(0L, await PublicTableCountAsync(second));
    }

    [Fact]
    public async Task RabbitMq_fixture_accepts_a_persistent_publish_with_confirms()
    {
        var queue = $"fixture-{Guid.NewGuid():N}";
        await using var connection = await ConnectAsync(rabbitMq.AmqpUrl);
        await using var channel = await connection.CreateChannelAsync(ConfirmedChannel);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);

        await PublishPersistentAsync(channel, queue, "hello");

        var got = await channel.BasicGetAsync(queue, autoAck: true);
        Assert.NotNull(got);
        Assert.Equal("hello", Encoding.UTF8.GetString(got.Body.Span));
        Assert.Equal(DeliveryModes.Persistent, got.BasicProperties.DeliveryMode);
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task RabbitMq_fixture_virtual_hosts_are_isolated_from_each_other()
    {
        var first = await rabbitMq.CreateVirtualHostAsync();
        var second = await rabbitMq.CreateVirtualHostAsync();
        Assert.NotEqual(first, second);

        await using (var connection = await ConnectAsync(first))
        await using (var channel = await connection.CreateChannelAsync(ConfirmedChannel))
        {
            await channel.QueueDeclareAsync("only-in-first", durable: true, exclusive: false, autoDelete: false);
            await PublishPersistentAsync(channel, "only-in-first", "first");
        }

        await using (var connection = await ConnectAsync(second))
        await using (var channel = await connection.CreateChannelAsync())
        {
            var missing = await Assert.ThrowsAsync<OperationInterruptedException>(
                () => channel.QueueDeclarePassiveAsync("only-in-first"));
            Assert.Equal<ushort?>(404, missing.ShutdownReason?.ReplyCode);
        }
    }

    [Fact]
    public async Task Postgres_fixture_drops_the_databases_it_created_when_disposed()
    {
        // Another fixture on the same server, as a second test class would have.
        var other = new PostgresFixture();
        await other.InitializeAsync(postgres.ConnectionString);
        Assert.True(other.IsExternal);
        var first = await other.CreateDatabaseAsync();
        var second = await other.CreateDatabaseAsync();
        // An open pooled connection, as a test host leaves behind, does not keep a database alive.
        await ScalarAsync<int>(first, "SELECT 1");

        await other.DisposeAsync();

        Assert.False(await DatabaseExistsAsync(Database(first)));
        Assert.False(await DatabaseExistsAsync(Database(second)));
    }

    [Fact]
    public async Task RabbitMq_fixture_on_an_existing_broker_creates_and_deletes_its_virtual_hosts()
    {
        // HUB_TEST_RABBITMQ_URL and HUB_TEST_RABBITMQ_MANAGEMENT_URL, given here instead of through the
        // environment (which the other tests of this run share): the shared broker stands in for an existing one.
        var external = new RabbitMqFixture();
        await external.InitializeAsync(rabbitMq.AmqpUrl, rabbitMq.ManagementUrl.ToString());
        Assert.True(external.IsExternal);
        Assert.Equal(rabbitMq.AmqpUrl, external.AmqpUrl);

        var url = await external.CreateVirtualHostAsync();
        await using (var connection = await ConnectAsync(url))
        await using (var channel = await connection.CreateChannelAsync(ConfirmedChannel))
        {
            await channel.QueueDeclareAsync("in-external", durable: true, exclusive: false, autoDelete: false);
            await PublishPersistentAsync(channel, "in-external", "hello");
        }

        await external.DisposeAsync();
        // The broker refuses the connection to a virtual host that is gone (the client sees it on first use).
        var gone = await Assert.ThrowsAsync<OperationInterruptedException>(async () =>
        {
            await using var connection = await ConnectAsync(url);
            await using var channel = await connection.CreateChannelAsync();
        });
        Assert.Equal<ushort?>(530, gone.ShutdownReason?.ReplyCode);
    }

    [Theory]
    [InlineData("amqp://hub:secret@broker.internal:5672/", "http://hub:secret@broker.internal:15672/")]
    [InlineData("amqp://127.0.0.1/", "http://guest:guest@127.0.0.1:15672/")]
    public void RabbitMq_fixture_finds_an_existing_brokers_management_api_on_its_host(string amqp, string management) =>
        Assert.Equal(new Uri(management), RabbitMqFixture.DefaultManagementUrl(new Uri(amqp)));

    [Fact]
    public async Task Broker_stopped_and_started_again_keeps_a_durable_queue_and_its_persistent_message()
    {
        await using var broker = await RabbitMqServer.StartAsync();
        output.WriteLine($"broker container started in {broker.StartupDuration.TotalSeconds:F1} s");
        const string queue = "survives-restart";
        await using (var connection = await ConnectAsync(broker.AmqpUrl))
        await using (var channel = await connection.CreateChannelAsync(ConfirmedChannel))
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
            await PublishPersistentAsync(channel, queue, "still here");
        }

        var port = broker.AmqpPort;
        await broker.StopAsync();
        await Assert.ThrowsAsync<BrokerUnreachableException>(() => ConnectAsync(broker.AmqpUrl));

        var restarted = System.Diagnostics.Stopwatch.StartNew();
        await broker.StartAgainAsync();
        output.WriteLine($"restarted in {restarted.Elapsed.TotalSeconds:F1} s");
        await using (var connection = await ConnectAsync(broker.AmqpUrl))
        await using (var channel = await connection.CreateChannelAsync())
        {
            var got = await channel.BasicGetAsync(queue, autoAck: true);
            Assert.NotNull(got);
            Assert.Equal("still here", Encoding.UTF8.GetString(got.Body.Span));
        }
        Assert.Equal(port, broker.AmqpPort);
    }

    [Fact]
    public async Task Broker_killed_and_started_again_answers_on_the_same_port()
    {
        await using var broker = await RabbitMqServer.StartAsync();
        await broker.StopAsync(abrupt: true);
        await Assert.ThrowsAsync<BrokerUnreachableException>(() => ConnectAsync(broker.AmqpUrl));

        await broker.StartAgainAsync();
        await using var connection = await ConnectAsync(broker.AmqpUrl);
        Assert.True(connection.IsOpen);
    }

    private static readonly CreateChannelOptions ConfirmedChannel =
        new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    private static Task<IConnection> ConnectAsync(string url) =>
        new ConnectionFactory
        {
            Uri = new Uri(url),
            AutomaticRecoveryEnabled = false,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
        }.CreateConnectionAsync();

    // With confirmation tracking the call returns once the broker confirmed (persisted) the message.
    private static async Task PublishPersistentAsync(IChannel channel, string queue, string body) =>
        await channel.BasicPublishAsync(
            exchange: "",
            routingKey: queue,
            mandatory: true,
            basicProperties: new BasicProperties { Persistent = true },
            body: Encoding.UTF8.GetBytes(body));

    private static string Database(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString).Database!;

    private async Task<bool> DatabaseExistsAsync(string name)
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = $1", connection)
        {
            Parameters = { new() { Value = name } },
        };
        return (long)(await command.ExecuteScalarAsync())! == 1;
    }

    private static Task<long> PublicTableCountAsync(string connectionString) =>
        ScalarAsync<long>(connectionString, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'");

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
