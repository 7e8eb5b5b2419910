using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SignalRHub = Microsoft.AspNetCore.SignalR.Hub;

namespace Hub.Tests.Support;

/// <summary>
/// Runs <see cref="SignalRTestClient"/> against a real SignalR hub on a TestServer (/echo) and against a
/// scripted raw WebSocket endpoint (/raw) for framing and protocol corners the real hub does not produce on demand.
/// </summary>
public sealed class SignalRTestClientTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly HangGate _gate = new();
    private readonly TaskCompletionSource _rawScriptDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<WebSocket, Task> _rawScript = _ => Task.CompletedTask;
    private WebApplication? _app;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_gate);
        builder.Services
            .AddSignalR(options => options.MaximumReceiveMessageSize = 1024 * 1024)
            .AddJsonProtocol(options => options.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);

        _app = builder.Build();
        _app.MapHub<EchoHub>("/echo");
        _app.Map("/raw", async (HttpContext context) =>
        {
            using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync();
            try
            {
                await _rawScript(socket);
                _rawScriptDone.TrySetResult();
            }
            catch (Exception ex)
            {
                _rawScriptDone.TrySetException(ex);
            }
        });
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _gate.Release();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Handshake_succeeds_and_the_client_is_connected()
    {
        await using SignalRTestClient client = await ConnectAsync("/echo");

        Assert.True(client.IsConnected);
        Assert.False(client.Closed.IsCompleted);
        Assert.Null(client.CloseError);
    }

    [Fact]
    public async Task Invoke_returns_the_result_of_the_hub_method()
    {
        await using SignalRTestClient client = await ConnectAsync("/echo");

        Assert.Equal("hello", await client.InvokeAsync<string>("Echo", "hello").WaitAsync(Timeout));
        Assert.Equal(5, await client.InvokeAsync<int>("Add", 2, 3).WaitAsync(Timeout));

        JsonElement raw = await client.InvokeAsync("Echo", "raw").WaitAsync(Timeout);
        Assert.Equal(JsonValueKind.String, raw.ValueKind);
        Assert.Equal("raw", raw.GetString());

        JsonElement none = await client.InvokeAsync("Void").WaitAsync(Timeout);
        Assert.Equal(JsonValueKind.Undefined, none.ValueKind);
    }

    [Fact]
    public async Task Concurrent_invocations_each_complete_with_their_own_result()
    {
        await using SignalRTestClient client = await ConnectAsync("/echo");

        Task<int>[] calls = Enumerable.Range(0, 200).Select(i => client.InvokeAsync<int>("Add", i, 1000)).ToArray();
        int[] results = await Task.WhenAll(calls).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(1000, 200), results);
    }

    [Fact]
    public async Task Hub_exception_message_arrives_verbatim_and_the_connection_stays_usable()
    {
        await using SignalRTestClient client = await ConnectAsync("/echo");

        HubInvocationException error = await Assert.ThrowsAsync<HubInvocationException>(
            () => client.InvokeAsync("Fail").WaitAsync(Timeout));

        // The server (without detailed errors) prefixes a HubException's message with its own text; the client
        // passes the whole error string through unchanged.
        Assert.Equal("An unexpected error occurred invoking 'Fail' on the server. HubException: invalid_event: test", error.Message);
        Assert.EndsWith("invalid_event: test", error.Message, StringComparison.Ordinal);
        Assert.True(client.IsConnected);
        Assert.Equal("still here", await client.InvokeAsync<string>("Echo", "still here").WaitAsync(Timeout));
    }

    [Fact]
    public async Task Server_to_client_invocation_reaches_On_and_Subscribe_with_snake_case_payload()
    {
        await using SignalRTestClient client = await ConnectAsync("/echo");
        ChannelReader<JsonElement> subscribed = client.Subscribe("Notified");
        var handled = new TaskCompletionSource<JsonElement[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable registration = client.On("notified", arguments => handled.TrySetResult(arguments));

        await client.InvokeAsync("Notify", "hello").WaitAsync(Timeout);

        JsonElement[] arguments = await handled.Task.WaitAsync(Timeout);
        JsonElement payload = Assert.Single(arguments);
        Assert.Equal("hello", payload.GetProperty("text").GetString());
        Assert.Equal(5, payload.GetProperty("text_length").GetInt32());

        JsonElement first = await NextAsync(subscribed);
        Assert.Equal("hello", first.GetProperty("text").GetString());
        Assert.Equal(5, first.GetProperty("text_length").GetInt32());
    }

    [Fact]
    public async Task Disposed_handler_is_no_longer_called()
    {
        await using SignalRTestClient client = await ConnectAsync("/echo");
        int removedCalls = 0;
        IDisposable removed = client.On("Notified", _ => Interlocked.Increment(ref removedCalls));
        ChannelReader<JsonElement> subscribed = client.Subscribe("Notified");
        removed.Dispose();

        await client.InvokeAsync("Notify", "one").WaitAsync(Timeout);
        await NextAsync(subscribed);

        Assert.Equal(0, Volatile.Read(ref removedCalls));
    }

    [Fact]
    public async Task Arguments_and_results_use_snake_case_payloads()
    {
        await using SignalRTestClient client = await ConnectAsync("/echo");
        var sent = new Payload("Ada Lovelace", 3);

        Payload? typed = await client.InvokeAsync<Payload>("EchoPayload", sent).WaitAsync(Timeout);
        JsonElement raw = await client.InvokeAsync("EchoPayload", sent).WaitAsync(Timeout);

        Assert.Equal(sent, typed);
        Assert.Equal("Ada Lovelace", raw.GetProperty("display_name").GetString());
        Assert.Equal(3, raw.GetProperty("item_count").GetInt32());
    }

    [Fact]
    public async Task Pending_invocation_fails_and_Closed_completes_when_the_server_aborts_the_connection()
    {
        await using SignalRTestClient client = await ConnectAsync("/echo");

        Task<string> pending = client.InvokeAsync<string>("AbortAndHang");

        IOException error = await Assert.ThrowsAsync<IOException>(() => pending.WaitAsync(Timeout));
        Assert.Contains("connection was closed", error.Message, StringComparison.Ordinal);
        Assert.Null(await client.Closed.WaitAsync(Timeout));
        Assert.Equal("The connection was closed.", error.Message);
        Assert.False(client.IsConnected);
        await Assert.ThrowsAsync<IOException>(() => client.InvokeAsync("Echo", "after").WaitAsync(Timeout));
        await Assert.ThrowsAsync<IOException>(() => client.SendAsync("Echo", "after").WaitAsync(Timeout));
    }

    [Fact]
    public async Task StopAsync_closes_gracefully_and_fails_pending_invocations()
    {
        SignalRTestClient client = await ConnectAsync("/echo");
        Task pending = client.InvokeAsync("Hang");

        await client.StopAsync().WaitAsync(Timeout);

        IOException error = await Assert.ThrowsAsync<IOException>(() => pending.WaitAsync(Timeout));
        Assert.Equal("The connection was closed.", error.Message);
        Assert.Null(await client.Closed.WaitAsync(Timeout));
        Assert.False(client.IsConnected);
        await client.DisposeAsync().AsTask().WaitAsync(Timeout);
    }

    [Fact]
    public async Task Payload_larger_than_one_frame_round_trips()
    {
        await using SignalRTestClient client = await ConnectAsync("/echo");
        string large = string.Concat(Enumerable.Repeat("0123456789abcdé✓", 6_250)); // 100,000 chars, multi-byte UTF-8

        string echoed = await client.InvokeAsync<string>("Echo", large).WaitAsync(Timeout);

        Assert.Equal(large, echoed);
        Assert.Equal("small", await client.InvokeAsync<string>("Echo", "small").WaitAsync(Timeout));
    }

    [Fact]
    public async Task Works_with_ClientWebSocket_against_Kestrel()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_gate);
        builder.Services.AddSignalR(options => options.MaximumReceiveMessageSize = 1024 * 1024)
            .AddJsonProtocol(options => options.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        await using WebApplication kestrel = builder.Build();
        kestrel.MapHub<EchoHub>("/echo");
        await kestrel.StartAsync();
        var uri = new UriBuilder(kestrel.Urls.Single()) { Scheme = "ws", Path = "/echo" }.Uri;
        using var cts = new CancellationTokenSource(Timeout);
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(uri, cts.Token);

        await using (SignalRTestClient client = await SignalRTestClient.ConnectAsync(socket, cancellationToken: cts.Token))
        {
            ChannelReader<JsonElement> notified = client.Subscribe("Notified");
            string large = new('k', 100_000);

            Assert.Equal(large, await client.InvokeAsync<string>("Echo", large).WaitAsync(Timeout));
            Task<int>[] calls = Enumerable.Range(0, 50).Select(i => client.InvokeAsync<int>("Add", i, 1)).ToArray();
            Assert.Equal(Enumerable.Range(1, 50), await Task.WhenAll(calls).WaitAsync(Timeout));
            await client.SendAsync("Notify", "kestrel").WaitAsync(Timeout);
            Assert.Equal("kestrel", (await NextAsync(notified)).GetProperty("text").GetString());
            await client.StopAsync().WaitAsync(Timeout);
            Assert.Null(await client.Closed.WaitAsync(Timeout));
        }

        Assert.Equal(WebSocketState.Closed, socket.State);
        await kestrel.StopAsync(cts.Token);
    }

    [Fact]
    public async Task Handshake_error_throws_SignalRHandshakeException_with_the_server_message()
    {
        _rawScript = async socket =>
        {
            Assert.Equal("{\"protocol\":\"json\",\"version\":1}", await ReadMessageAsync(socket));
            await SendTextAsync(socket, "{\"error\":\"Requested protocol 'json' is not available.\"}\u001e");
            await ExpectCloseAsync(socket);
        };
        using var cts = new CancellationTokenSource(Timeout);
        WebSocket socket = await CreateSocketAsync("/raw", cts.Token);

        SignalRHandshakeException error = await Assert.ThrowsAsync<SignalRHandshakeException>(
            () => SignalRTestClient.ConnectAsync(socket, cancellationToken: cts.Token));

        Assert.Equal("Requested protocol 'json' is not available.", error.Message);
        await _rawScriptDone.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Messages_batched_in_one_frame_or_split_across_frames_are_all_parsed()
    {
        static string Invocation(string argument) => $"{{\"type\":1,\"target\":\"Batched\",\"arguments\":[{argument}]}}\u001e";
        _rawScript = async socket =>
        {
            await ReadMessageAsync(socket);
            await SendTextAsync(socket, "{}\u001e{\"type\":6}\u001e"); // handshake answer and a ping in one frame
            Assert.Contains("\"target\":\"Ready\"", await ReadMessageAsync(socket), StringComparison.Ordinal);

            string third = Invocation("3");
            await SendTextAsync(socket, Invocation("1") + Invocation("2") + third[..17]); // two and a half messages
            await SendTextAsync(socket, third[17..]);

            // One message sent byte by byte as continuation frames, splitting multi-byte characters.
            byte[] fourth = Encoding.UTF8.GetBytes(Invocation("\"héllo ✓\""));
            for (int i = 0; i < fourth.Length; i++)
            {
                await socket.SendAsync(fourth.AsMemory(i, 1), WebSocketMessageType.Text, endOfMessage: i == fourth.Length - 1, CancellationToken.None);
            }

            await ExpectCloseAsync(socket);
        };
        SignalRTestClient client = await ConnectAsync("/raw");
        ChannelReader<JsonElement> batched = client.Subscribe("Batched");

        await client.SendAsync("Ready").WaitAsync(Timeout);

        Assert.Equal(1, (await NextAsync(batched)).GetInt32());
        Assert.Equal(2, (await NextAsync(batched)).GetInt32());
        Assert.Equal(3, (await NextAsync(batched)).GetInt32());
        Assert.Equal("héllo ✓", (await NextAsync(batched)).GetString());
        await client.DisposeAsync().AsTask().WaitAsync(Timeout);
        await _rawScriptDone.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Close_message_error_fails_pending_invocations_and_is_reported()
    {
        _rawScript = async socket =>
        {
            await ReadMessageAsync(socket);
            await SendTextAsync(socket, "{}\u001e");
            Assert.Contains("\"target\":\"Pending\"", await ReadMessageAsync(socket), StringComparison.Ordinal);
            await SendTextAsync(socket, "{\"type\":7,\"error\":\"Server is shutting down.\",\"allowReconnect\":true}\u001e");
            await ExpectCloseAsync(socket);
        };
        await using SignalRTestClient client = await ConnectAsync("/raw");
        ChannelReader<JsonElement> subscription = client.Subscribe("Anything");

        IOException error = await Assert.ThrowsAsync<IOException>(() => client.InvokeAsync("Pending").WaitAsync(Timeout));

        Assert.Equal("The connection was closed with an error: Server is shutting down.", error.Message);
        Assert.Equal("Server is shutting down.", await client.Closed.WaitAsync(Timeout));
        Assert.Equal("Server is shutting down.", client.CloseError);
        Assert.False(client.IsConnected);
        await subscription.Completion.WaitAsync(Timeout);
        await _rawScriptDone.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Server_invocation_expecting_a_result_is_answered_with_an_error_completion()
    {
        _rawScript = async socket =>
        {
            await ReadMessageAsync(socket);
            await SendTextAsync(socket, "{}\u001e{\"type\":1,\"invocationId\":\"s1\",\"target\":\"GetValue\",\"arguments\":[]}\u001e");
            using JsonDocument reply = JsonDocument.Parse(await ReadMessageAsync(socket));
            Assert.Equal(3, reply.RootElement.GetProperty("type").GetInt32());
            Assert.Equal("s1", reply.RootElement.GetProperty("invocationId").GetString());
            Assert.Equal("Client didn't provide a result.", reply.RootElement.GetProperty("error").GetString());
        };

        await using SignalRTestClient client = await ConnectAsync("/raw");

        await _rawScriptDone.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Ping_is_sent_while_the_connection_is_idle()
    {
        _rawScript = async socket =>
        {
            await ReadMessageAsync(socket);
            await SendTextAsync(socket, "{}\u001e");
            Assert.Equal("{\"type\":6}", await ReadMessageAsync(socket));
        };
        await using SignalRTestClient client = await ConnectAsync("/raw");

        client.PingInterval = TimeSpan.FromMilliseconds(50);

        await _rawScriptDone.Task.WaitAsync(Timeout);
    }

    private async Task<SignalRTestClient> ConnectAsync(string path)
    {
        using var cts = new CancellationTokenSource(Timeout);
        WebSocket socket = await CreateSocketAsync(path, cts.Token);
        return await SignalRTestClient.ConnectAsync(socket, cancellationToken: cts.Token);
    }

    private Task<WebSocket> CreateSocketAsync(string path, CancellationToken cancellationToken) =>
        _app!.GetTestServer().CreateWebSocketClient().ConnectAsync(new Uri("ws://localhost" + path), cancellationToken);

    /// <summary>Reads one WebSocket message and returns it without its trailing record separator.</summary>
    private static async Task<string> ReadMessageAsync(WebSocket socket)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var buffer = new byte[4096];
        using var message = new MemoryStream();
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(), cts.Token);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        string text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
        Assert.EndsWith("\u001e", text, StringComparison.Ordinal);
        return text[..^1];
    }

    private static Task SendTextAsync(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    /// <summary>Waits for the client's close frame (ignoring data) and completes the close handshake.</summary>
    private static async Task ExpectCloseAsync(WebSocket socket)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var buffer = new byte[4096];
        while ((await socket.ReceiveAsync(buffer.AsMemory(), cts.Token)).MessageType != WebSocketMessageType.Close)
        {
        }

        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
    }

    private static Task<JsonElement> NextAsync(ChannelReader<JsonElement> reader) => reader.ReadAsync().AsTask().WaitAsync(Timeout);

    private sealed record Payload(string DisplayName, int ItemCount);

    private sealed class HangGate
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Released => _released.Task;

        public void Release() => _released.TrySetResult();
    }

    private sealed class EchoHub(HangGate gate) : SignalRHub
    {
        public string Echo(string text) => text;

        public int Add(int a, int b) => a + b;

        public void Fail() => throw new HubException("invalid_event: test");

        public Task Notify(string text) => Clients.Caller.SendAsync("Notified", new { text, TextLength = text.Length });

        public void Void()
        {
        }

        public Payload EchoPayload(Payload payload) => payload;

        public async Task Hang() => await gate.Released;

        public async Task<string> AbortAndHang()
        {
            Context.Abort();
            await gate.Released;
            return "too late";
        }
    }
}
