using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Tests.Support;

/// <summary>
/// An agent's <see cref="HubConnection"/> to <c>/hubs/agent</c> with what tests await on it: pushes as
/// channels and the end of the connection as a task. The protocol is the real client's; nothing here speaks it.
/// </summary>
public sealed class AgentConnection : IAsyncDisposable
{
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly List<ChannelWriter<JsonElement>> _subscriptions = [];

    private AgentConnection(HubConnection connection)
    {
        Connection = connection;
        // Subscribed before the start, so an end that comes before a test awaits it is still seen.
        connection.Closed += OnClosedAsync;
    }

    /// <summary>The hub's payload conventions (web defaults, snake_case names), as the relay's JSON has them.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public HubConnection Connection { get; }

    /// <summary>Completes when the connection ends, with the error it ended with (null for a clean close).</summary>
    public Task<Exception?> Closed => _closed.Task;

    public bool IsConnected => Connection.State == HubConnectionState.Connected;

    /// <summary>Starts <paramref name="connection"/>; on failure it is disposed and the client's exception surfaces unchanged.</summary>
    public static async Task<AgentConnection> StartAsync(HubConnection connection, CancellationToken cancellationToken = default)
    {
        var agent = new AgentConnection(connection);
        try
        {
            await connection.StartAsync(cancellationToken);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        return agent;
    }

    /// <summary>Invokes a hub method; a refusal surfaces as <see cref="HubException"/> carrying the server's message.</summary>
    public Task<JsonElement> InvokeAsync(string target, params object?[] arguments) => Connection.InvokeCoreAsync<JsonElement>(target, arguments);

    /// <summary>Every push of <paramref name="target"/> from now on; the channel completes when the connection ends.</summary>
    public ChannelReader<JsonElement> Subscribe(string target)
    {
        var channel = Channel.CreateUnbounded<JsonElement>();
        lock (_gate)
        {
            if (_closed.Task.IsCompleted)
            {
                channel.Writer.TryComplete();
                return channel.Reader;
            }

            _subscriptions.Add(channel.Writer);
        }

        Connection.On<JsonElement>(target, payload => channel.Writer.TryWrite(payload));
        return channel.Reader;
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();

    private Task OnClosedAsync(Exception? error)
    {
        lock (_gate)
        {
            foreach (var subscription in _subscriptions)
            {
                subscription.TryComplete();
            }

            _subscriptions.Clear();
            _closed.TrySetResult(error);
        }

        return Task.CompletedTask;
    }
}

public static class AgentConnectionExtensions
{
    /// <summary>The JSON protocol with the hub's payload conventions, so anonymous objects and results read as the relay's.</summary>
    public static IHubConnectionBuilder AddHubJson(this IHubConnectionBuilder builder) =>
        builder.AddJsonProtocol(options => options.PayloadSerializerOptions = AgentConnection.Json);

    extension(HubException exception)
    {
        /// <summary>
        /// What the hub threw: the client's message is "An unexpected error occurred invoking 'X' on the server.
        /// HubException: &lt;message&gt;", and the hub's codes start that message.
        /// </summary>
        public string? HubMessage =>
            exception.Message.IndexOf("HubException: ", StringComparison.Ordinal) is var at and >= 0 ? exception.Message[(at + "HubException: ".Length)..] : null;
    }
}
