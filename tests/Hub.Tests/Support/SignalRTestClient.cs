using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;

namespace Hub.Tests.Support;

/// <summary>
/// A minimal client of the SignalR JSON hub protocol (version 1) over an already-connected WebSocket
/// (no negotiation, no reconnect, no streaming). Works with the TestServer's WebSocketClient and with a
/// <see cref="ClientWebSocket"/> against Kestrel.
/// </summary>
/// <remarks>
/// The client takes ownership of the socket: it closes and disposes it on <see cref="DisposeAsync"/>.
/// Per connection it keeps one receive loop (no Task.Run), one pooled receive buffer (returned when the
/// connection ends) and one ping timer; outgoing messages are serialised into pooled buffers.
/// </remarks>
public sealed class SignalRTestClient : IAsyncDisposable
{
    /// <summary>The default payload options: web defaults with snake_case property names, like the hub's.</summary>
    public static JsonSerializerOptions DefaultSerializerOptions { get; } = CreateDefaultSerializerOptions();

    private const byte RecordSeparator = 0x1E;
    private const int InitialReceiveBufferSize = 4 * 1024;
    private const int MinimumReceiveSpace = 1024;
    private const int MaximumIdleReceiveBufferSize = 64 * 1024;
    private const int StateHandshaking = 0;
    private const int StateConnected = 1;
    private const int StateEnded = 2;
    private const string NoClientResultError = "Client didn't provide a result.";

    private static readonly TimeSpan DefaultPingInterval = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    private static readonly byte[] HandshakeRequest = "{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray();
    private static readonly byte[] PingFrame = "{\"type\":6}\u001e"u8.ToArray();
    private static readonly JsonEncodedText TypeProperty = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText InvocationIdProperty = JsonEncodedText.Encode("invocationId");
    private static readonly JsonEncodedText TargetProperty = JsonEncodedText.Encode("target");
    private static readonly JsonEncodedText ArgumentsProperty = JsonEncodedText.Encode("arguments");
    private static readonly JsonEncodedText ErrorProperty = JsonEncodedText.Encode("error");

    private readonly WebSocket _socket;
    private readonly JsonSerializerOptions _options;
    private readonly JsonWriterOptions _writerOptions;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<string, IPendingInvocation> _pending = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Action<JsonElement[]>[]> _handlers = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<ChannelWriter<JsonElement>> _subscriptions = [];
    private readonly TaskCompletionSource _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Timer _pingTimer;

    private Task _receiveLoop = Task.CompletedTask;
    private TimeSpan _pingInterval = DefaultPingInterval;
    private long _nextInvocationId;
    private long _lastSendTicks;
    private int _state = StateHandshaking;
    private int _disposed;
    private string? _closeError;
    private Exception? _transportError;

    private SignalRTestClient(WebSocket socket, JsonSerializerOptions options)
    {
        _socket = socket;
        _options = options;
        _writerOptions = new JsonWriterOptions { Encoder = options.Encoder };
        _pingTimer = new Timer(static state => ((SignalRTestClient)state!).OnPingTimer(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>
    /// Completes when the connection ends. Its result is the error of the server's Close message, or null
    /// (graceful close, or the transport simply went away).
    /// </summary>
    public Task<string?> Closed => _closed.Task;

    /// <summary>The error of the server's Close message, if one arrived.</summary>
    public string? CloseError => Volatile.Read(ref _closeError);

    /// <summary>True between a successful handshake and the end of the connection.</summary>
    public bool IsConnected => Volatile.Read(ref _state) == StateConnected;

    /// <summary>The options used for arguments, results and server-to-client payloads.</summary>
    public JsonSerializerOptions SerializerOptions => _options;

    /// <summary>
    /// How often a Ping is sent while connected (15 s by default); <see cref="Timeout.InfiniteTimeSpan"/>
    /// disables pings. A ping is skipped when another message went out during the last half interval.
    /// </summary>
    public TimeSpan PingInterval
    {
        get => _pingInterval;
        set
        {
            if (value != Timeout.InfiniteTimeSpan && value <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The ping interval must be positive or infinite.");
            }

            lock (_gate)
            {
                _pingInterval = value;
                if (_state == StateConnected)
                {
                    _pingTimer.Change(value, value);
                }
            }
        }
    }

    /// <summary>
    /// Performs the handshake on the given open socket; throws <see cref="SignalRHandshakeException"/> when the
    /// server answers with an error. On any failure the socket is closed and disposed.
    /// </summary>
    public static async Task<SignalRTestClient> ConnectAsync(
        WebSocket socket, JsonSerializerOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.State != WebSocketState.Open)
        {
            throw new ArgumentException($"The WebSocket must be open, but it is {socket.State}.", nameof(socket));
        }

        var client = new SignalRTestClient(socket, options ?? DefaultSerializerOptions);
        client._receiveLoop = client.RunReceiveLoopAsync();
        try
        {
            await client.SendFrameAsync(HandshakeRequest).WaitAsync(cancellationToken);
            await client._handshake.Task.WaitAsync(cancellationToken);
        }
        catch
        {
            if (cancellationToken.IsCancellationRequested)
            {
                socket.Abort();
            }

            await client.DisposeAsync();
            _ = client._handshake.Task.Exception; // observed, whichever way the handshake ended
            throw;
        }

        client.StartPingTimer();
        return client;
    }

    /// <summary>
    /// Invokes <paramref name="target"/> and returns its result deserialised as <typeparamref name="T"/>
    /// (the server's <c>"result":null</c> for void methods deserialises as usual: null, or a JsonException for a
    /// non-nullable value type). Throws <see cref="HubInvocationException"/> carrying the server's error string
    /// verbatim, or <see cref="IOException"/> when the connection ends first. A null <paramref name="arguments"/>
    /// array (what C# passes for a lone <c>null</c>) is sent as one null argument.
    /// </summary>
    public Task<T> InvokeAsync<T>(string target, params object?[] arguments)
    {
        var pending = new TypedInvocation<T>(_options);
        return InvokeCoreAsync(pending, pending.Task, target, arguments);
    }

    /// <summary>
    /// Invokes <paramref name="target"/> and returns the raw result (cloned, so it outlives the message), or
    /// <c>default(JsonElement)</c> (ValueKind Undefined) when the method returns nothing. The server completes
    /// void methods with <c>"result":null</c>, so a null result also gives <c>default(JsonElement)</c>.
    /// </summary>
    public Task<JsonElement> InvokeAsync(string target, params object?[] arguments)
    {
        var pending = new RawInvocation();
        return InvokeCoreAsync(pending, pending.Task, target, arguments);
    }

    /// <summary>Sends a non-blocking invocation (no invocationId); completes once the message is written.</summary>
    public async Task SendAsync(string target, params object?[] arguments)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        ThrowIfNotConnected();
        using PooledBufferWriter payload = SerializeInvocation(invocationId: null, target, arguments);
        try
        {
            await SendFrameAsync(payload.WrittenMemory);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw CreateClosedException(ex);
        }
    }

    /// <summary>
    /// Registers a handler for server-to-client invocations of <paramref name="target"/> (matched
    /// case-insensitively). Handlers run on the receive loop, in order, and get the cloned arguments; their
    /// exceptions are swallowed. Dispose the result to unregister.
    /// </summary>
    public IDisposable On(string target, Action<JsonElement[]> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentNullException.ThrowIfNull(handler);
        lock (_gate)
        {
            AddHandlerLocked(target, handler);
        }

        return new HandlerRegistration(this, target, handler);
    }

    /// <summary>
    /// Returns an unbounded channel of the first argument (default when there is none) of every invocation of
    /// <paramref name="target"/> received from now on. The channel completes when the connection ends.
    /// </summary>
    public ChannelReader<JsonElement> Subscribe(string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        var channel = Channel.CreateUnbounded<JsonElement>();
        lock (_gate)
        {
            if (_state == StateEnded)
            {
                channel.Writer.TryComplete();
                return channel.Reader;
            }

            _subscriptions.Add(channel.Writer);
            AddHandlerLocked(target, arguments => channel.Writer.TryWrite(arguments.Length > 0 ? arguments[0] : default));
        }

        return channel.Reader;
    }

    /// <summary>
    /// Closes the WebSocket gracefully (no SignalR Close message; the client closes the transport) and waits
    /// for the connection to end, aborting the socket if the server does not answer within 5 seconds.
    /// Pending invocations fail.
    /// </summary>
    public async Task StopAsync()
    {
        if (!_receiveLoop.IsCompleted)
        {
            try
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                await CloseOutputAsync(timeout.Token);
                await _receiveLoop.WaitAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _socket.Abort();
            }
        }

        await _receiveLoop;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync();
        await _pingTimer.DisposeAsync();
        _socket.Dispose();
        _sendLock.Dispose();
    }

    private async Task<T> InvokeCoreAsync<T>(IPendingInvocation pending, Task<T> result, string target, object?[]? arguments)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        ThrowIfNotConnected();
        string invocationId = Interlocked.Increment(ref _nextInvocationId).ToString(CultureInfo.InvariantCulture);
        using (PooledBufferWriter payload = SerializeInvocation(invocationId, target, arguments))
        {
            _pending[invocationId] = pending;
            // The receive loop fails whatever is pending after it marks the connection ended; whoever removes
            // the entry first completes it, so an invocation registered during the shutdown is never lost.
            if (Volatile.Read(ref _state) == StateEnded && _pending.TryRemove(invocationId, out _))
            {
                throw CreateClosedException();
            }

            try
            {
                await SendFrameAsync(payload.WrittenMemory);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (_pending.TryRemove(invocationId, out _))
                {
                    throw CreateClosedException(ex);
                }
            }
        }

        return await result;
    }

    private void ThrowIfNotConnected()
    {
        if (Volatile.Read(ref _state) != StateConnected)
        {
            throw CreateClosedException();
        }
    }

    private IOException CreateClosedException(Exception? cause = null)
    {
        string? closeError = Volatile.Read(ref _closeError);
        Exception? inner = cause ?? Volatile.Read(ref _transportError);
        string message = closeError is not null
            ? $"The connection was closed with an error: {closeError}"
            : inner is not null
                ? $"The connection was closed: {inner.Message}"
                : "The connection was closed.";
        return new IOException(message, inner);
    }

    private async Task SendFrameAsync(ReadOnlyMemory<byte> frame)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            Volatile.Write(ref _lastSendTicks, Environment.TickCount64);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task CloseOutputAsync(CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private PooledBufferWriter SerializeInvocation(string? invocationId, string target, object?[]? arguments)
    {
        var buffer = new PooledBufferWriter();
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, _writerOptions))
            {
                writer.WriteStartObject();
                writer.WriteNumber(TypeProperty, 1);
                if (invocationId is not null)
                {
                    writer.WriteString(InvocationIdProperty, invocationId);
                }

                writer.WriteString(TargetProperty, target);
                writer.WriteStartArray(ArgumentsProperty);
                if (arguments is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    foreach (object? argument in arguments)
                    {
                        if (argument is null)
                        {
                            writer.WriteNullValue();
                        }
                        else
                        {
                            JsonSerializer.Serialize(writer, argument, argument.GetType(), _options);
                        }
                    }
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            buffer.Write(RecordSeparator);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private async Task RunReceiveLoopAsync()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBufferSize);
        try
        {
            Exception? error = null;
            try
            {
                int buffered = 0;
                bool keepReading = true;
                while (keepReading)
                {
                    if (buffer.Length - buffered < MinimumReceiveSpace)
                    {
                        buffer = Resize(buffer, buffered, buffer.Length * 2);
                    }

                    ValueWebSocketReceiveResult result = await _socket.ReceiveAsync(buffer.AsMemory(buffered), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    // A record separator cannot occur inside JSON text (control characters are escaped and UTF-8
                    // continuation bytes are >= 0x80), so scanning raw bytes for it is safe.
                    int scanFrom = buffered;
                    buffered += result.Count;
                    int consumed = 0;
                    while (keepReading)
                    {
                        int index = buffer.AsSpan(scanFrom, buffered - scanFrom).IndexOf(RecordSeparator);
                        if (index < 0)
                        {
                            break;
                        }

                        int end = scanFrom + index;
                        keepReading = ProcessMessage(buffer.AsMemory(consumed, end - consumed));
                        consumed = scanFrom = end + 1;
                    }

                    if (consumed > 0)
                    {
                        buffer.AsSpan(consumed, buffered - consumed).CopyTo(buffer);
                        buffered -= consumed;
                        if (buffered == 0 && buffer.Length > MaximumIdleReceiveBufferSize)
                        {
                            buffer = Resize(buffer, 0, InitialReceiveBufferSize);
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                error = ex;
            }

            OnConnectionEnded(error);
            await CloseSocketQuietlyAsync(buffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static byte[] Resize(byte[] buffer, int used, int size)
    {
        byte[] resized = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, used).CopyTo(resized);
        ArrayPool<byte>.Shared.Return(buffer);
        return resized;
    }

    /// <returns>False when the connection must end (handshake error or Close message).</returns>
    private bool ProcessMessage(ReadOnlyMemory<byte> message)
    {
        if (message.Span.SequenceEqual(PingFrame.AsSpan(0, PingFrame.Length - 1)))
        {
            return true;
        }

        using JsonDocument document = JsonDocument.Parse(message);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("A SignalR message must be a JSON object.");
        }

        if (Volatile.Read(ref _state) == StateHandshaking)
        {
            return ProcessHandshakeResponse(root);
        }

        if (!root.TryGetProperty("type", out JsonElement typeElement) || !typeElement.TryGetInt32(out int type))
        {
            throw new InvalidDataException("A SignalR message has no numeric 'type'.");
        }

        switch (type)
        {
            case 1: // Invocation
                ProcessInvocation(root);
                return true;
            case 3: // Completion
                ProcessCompletion(root);
                return true;
            case 7: // Close
                Volatile.Write(ref _closeError, GetString(root, "error"));
                return false;
            default: // 2 StreamItem (no streams are started), 6 Ping, and anything newer: nothing to do.
                return true;
        }
    }

    private bool ProcessHandshakeResponse(JsonElement root)
    {
        if (root.TryGetProperty("error", out JsonElement error))
        {
            _handshake.TrySetException(new SignalRHandshakeException(
                error.ValueKind == JsonValueKind.String ? error.GetString()! : error.GetRawText()));
            return false;
        }

        lock (_gate)
        {
            _state = StateConnected;
        }

        _handshake.TrySetResult();
        return true;
    }

    private void ProcessInvocation(JsonElement root)
    {
        string target = GetString(root, "target") ?? throw new InvalidDataException("An invocation has no 'target'.");
        Action<JsonElement[]>[]? handlers;
        lock (_gate)
        {
            _handlers.TryGetValue(target, out handlers);
        }

        if (handlers is not null)
        {
            JsonElement[] arguments = CloneArguments(root);
            foreach (Action<JsonElement[]> handler in handlers)
            {
                try
                {
                    handler(arguments);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Like the real client (which only logs), a failing handler does not end the connection.
                }
            }
        }

        // The server waits for a client result; Action handlers have none, so answer as the real client does.
        if (GetString(root, "invocationId") is { } serverInvocationId)
        {
            _ = SendCompletionErrorAsync(serverInvocationId, NoClientResultError);
        }
    }

    private static JsonElement[] CloneArguments(JsonElement root)
    {
        if (!root.TryGetProperty("arguments", out JsonElement arguments) || arguments.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        JsonElement cloned = arguments.Clone(); // one document for all arguments
        var result = new JsonElement[cloned.GetArrayLength()];
        int i = 0;
        foreach (JsonElement argument in cloned.EnumerateArray())
        {
            result[i++] = argument;
        }

        return result;
    }

    private void ProcessCompletion(JsonElement root)
    {
        if (GetString(root, "invocationId") is not { } invocationId || !_pending.TryRemove(invocationId, out IPendingInvocation? pending))
        {
            return;
        }

        if (root.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.String)
        {
            pending.Fail(new HubInvocationException(error.GetString()!));
        }
        else
        {
            pending.Complete(root.TryGetProperty("result", out JsonElement result) ? result : default);
        }
    }

    private static string? GetString(JsonElement root, string property) =>
        root.TryGetProperty(property, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private async Task SendCompletionErrorAsync(string invocationId, string error)
    {
        try
        {
            using var buffer = new PooledBufferWriter();
            using (var writer = new Utf8JsonWriter(buffer, _writerOptions))
            {
                writer.WriteStartObject();
                writer.WriteNumber(TypeProperty, 3);
                writer.WriteString(InvocationIdProperty, invocationId);
                writer.WriteString(ErrorProperty, error);
                writer.WriteEndObject();
            }

            buffer.Write(RecordSeparator);
            await SendFrameAsync(buffer.WrittenMemory);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The connection is going away; the receive loop reports that.
        }
    }

    private void OnConnectionEnded(Exception? error)
    {
        ChannelWriter<JsonElement>[] subscriptions;
        lock (_gate)
        {
            _state = StateEnded;
            subscriptions = [.. _subscriptions];
            _subscriptions.Clear();
        }

        _pingTimer.Change(Timeout.Infinite, Timeout.Infinite);
        Volatile.Write(ref _transportError, error);

        _handshake.TrySetException(new IOException(
            error is null
                ? "The connection was closed before the handshake completed."
                : $"The connection was closed before the handshake completed: {error.Message}",
            error));
        foreach (string invocationId in _pending.Keys)
        {
            if (_pending.TryRemove(invocationId, out IPendingInvocation? pending))
            {
                pending.Fail(CreateClosedException());
            }
        }

        foreach (ChannelWriter<JsonElement> subscription in subscriptions)
        {
            subscription.TryComplete();
        }

        _closed.TrySetResult(Volatile.Read(ref _closeError));
    }

    private async Task CloseSocketQuietlyAsync(byte[] buffer)
    {
        try
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            await CloseOutputAsync(timeout.Token);
            while (_socket.State == WebSocketState.CloseSent)
            {
                // Drain until the server's close frame arrives; data that comes after the end is ignored.
                await _socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _socket.Abort();
        }
    }

    private void StartPingTimer()
    {
        lock (_gate)
        {
            if (_state == StateConnected)
            {
                _pingTimer.Change(_pingInterval, _pingInterval);
            }
        }
    }

    private void OnPingTimer()
    {
        TimeSpan interval = _pingInterval;
        long sinceLastSend = Environment.TickCount64 - Volatile.Read(ref _lastSendTicks);
        if (!IsConnected || interval == Timeout.InfiniteTimeSpan || sinceLastSend < interval.TotalMilliseconds / 2)
        {
            return;
        }

        _ = SendPingAsync();
    }

    private async Task SendPingAsync()
    {
        try
        {
            await SendFrameAsync(PingFrame);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The receive loop notices a broken connection.
        }
    }

    private void AddHandlerLocked(string target, Action<JsonElement[]> handler) =>
        _handlers[target] = _handlers.TryGetValue(target, out Action<JsonElement[]>[]? existing) ? [.. existing, handler] : [handler];

    private void RemoveHandler(string target, Action<JsonElement[]> handler)
    {
        lock (_gate)
        {
            if (!_handlers.TryGetValue(target, out Action<JsonElement[]>[]? existing))
            {
                return;
            }

            int index = Array.IndexOf(existing, handler);
            if (index < 0)
            {
                return;
            }

            if (existing.Length == 1)
            {
                _handlers.Remove(target);
            }
            else
            {
                _handlers[target] = [.. existing.AsSpan(0, index), .. existing.AsSpan(index + 1)];
            }
        }
    }

    private static JsonSerializerOptions CreateDefaultSerializerOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private interface IPendingInvocation
    {
        void Complete(JsonElement result);

        void Fail(Exception exception);
    }

    private sealed class TypedInvocation<T>(JsonSerializerOptions options)
        : TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously), IPendingInvocation
    {
        public void Complete(JsonElement result)
        {
            if (result.ValueKind == JsonValueKind.Undefined)
            {
                TrySetResult(default!);
                return;
            }

            T value;
            try
            {
                value = result.Deserialize<T>(options)!;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                TrySetException(ex);
                return;
            }

            TrySetResult(value);
        }

        public void Fail(Exception exception) => TrySetException(exception);
    }

    private sealed class RawInvocation()
        : TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously), IPendingInvocation
    {
        // The server sends "result":null for void methods, so null and absent both mean "no result".
        public void Complete(JsonElement result) =>
            TrySetResult(result.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? default : result.Clone());

        public void Fail(Exception exception) => TrySetException(exception);
    }

    private sealed class HandlerRegistration(SignalRTestClient client, string target, Action<JsonElement[]> handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                client.RemoveHandler(target, handler);
            }
        }
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over arrays rented from the shared pool.</summary>
    private sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(512);
        private int _written;

        public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            EnsureCapacity(sizeHint);
            return _buffer.AsMemory(_written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            EnsureCapacity(sizeHint);
            return _buffer.AsSpan(_written);
        }

        public void Write(byte value)
        {
            EnsureCapacity(1);
            _buffer[_written++] = value;
        }

        public void Dispose()
        {
            byte[] buffer = Interlocked.Exchange(ref _buffer, []);
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private void EnsureCapacity(int sizeHint)
        {
            sizeHint = Math.Max(sizeHint, 1);
            if (_buffer.Length - _written >= sizeHint)
            {
                return;
            }

            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + sizeHint));
            _buffer.AsSpan(0, _written).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
    }
}

/// <summary>The server completed an invocation with an error; the message is the server's error string verbatim.</summary>
public sealed class HubInvocationException(string message) : Exception(message)
{
    private const string Marker = "HubException: ";

    /// <summary>
    /// The server's <c>HubException</c> message: SignalR sends it as "An unexpected error occurred
    /// invoking 'X' on the server. HubException: &lt;message&gt;", and the hub's codes start that message.
    /// </summary>
    public string? HubMessage => Message.IndexOf(Marker, StringComparison.Ordinal) is var at and >= 0 ? Message[(at + Marker.Length)..] : null;
}

/// <summary>The server rejected the handshake; the message is the server's error string verbatim.</summary>
public sealed class SignalRHandshakeException(string message) : Exception(message);
