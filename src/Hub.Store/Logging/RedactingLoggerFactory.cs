using System.Collections;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Hub.Store.Logging;

/// <summary>
/// Every logger of the process, with each entry masked by <see cref="LogRedactor"/> before any provider
/// (console, OpenTelemetry, ...) sees it: the message, every structured value, the exception and the
/// scopes. It wraps the factory rather than each provider, so filters by provider name
/// (<c>Logging:Console:LogLevel</c>) keep working and a provider added later is covered too.
/// </summary>
public sealed class RedactingLoggerFactory(ILoggerFactory inner, LogRedactor redactor) : ILoggerFactory
{
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName) =>
        _loggers.GetOrAdd(categoryName, category => new RedactingLogger(inner.CreateLogger(category), redactor));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The container owns the inner factory and disposes it.
    public void Dispose()
    {
    }
}

internal sealed class RedactingLogger(ILogger inner, LogRedactor redactor) : ILogger
{
    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull =>
        inner.BeginScope(new RedactedScope(state, redactor));

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel))
        {
            return;
        }

        var message = redactor.Redact(formatter(state, exception));
        IReadOnlyList<KeyValuePair<string, object?>> values = state is IReadOnlyList<KeyValuePair<string, object?>> structured
            ? RedactedValues.Of(structured, redactor)
            : [];
        inner.Log(logLevel, eventId, new RedactedState(message, values), RedactedException.Of(exception, redactor), static (entry, _) => entry.Message);
    }
}

/// <summary>What the providers see instead of the original state: the masked message and values.</summary>
internal sealed class RedactedState(string message, IReadOnlyList<KeyValuePair<string, object?>> values) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public string Message { get; } = message;

    public int Count => values.Count;

    public KeyValuePair<string, object?> this[int index] => values[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => Message;
}

internal static class RedactedValues
{
    /// <summary>Strings and objects masked as text; numbers, dates and the like kept as they are, so structured sinks keep their types.</summary>
    public static IReadOnlyList<KeyValuePair<string, object?>> Of(IReadOnlyList<KeyValuePair<string, object?>> values, LogRedactor redactor)
    {
        var result = new KeyValuePair<string, object?>[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            var (key, value) = values[i];
            result[i] = new(key, Redact(value, redactor));
        }

        return result;
    }

    public static object? Redact(object? value, LogRedactor redactor)
    {
        switch (value)
        {
            case null:
                return null;
            case string plain:
                return redactor.Redact(plain);
            case DateTime or DateTimeOffset or TimeSpan or Guid or Enum or decimal:
            case var _ when value.GetType().IsPrimitive:
                // Numbers, dates, enums, GUIDs hold no caller's text. A list, not IFormattable: a Uri is formattable too.
                return value;
            default:
                var text = value.ToString();
                if (text is null)
                {
                    return value;
                }

                var redacted = redactor.Redact(text);
                return ReferenceEquals(text, redacted) ? value : redacted;
        }
    }
}

/// <summary>A scope (request path, connection id, ...) masked when a provider reads it.</summary>
internal sealed class RedactedScope(object state, LogRedactor redactor) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private IReadOnlyList<KeyValuePair<string, object?>>? _values;

    // Masked once, when a provider first reads the scope (most never do: scopes are off by default).
    private IReadOnlyList<KeyValuePair<string, object?>> Values => _values ??=
        state is IReadOnlyList<KeyValuePair<string, object?>> values ? RedactedValues.Of(values, redactor) : [];

    public int Count => state is IReadOnlyList<KeyValuePair<string, object?>> values ? values.Count : 0;

    public KeyValuePair<string, object?> this[int index] => Values[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => Values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => redactor.Redact(state.ToString() ?? "");
}

/// <summary>
/// Stands in for an exception whose text holds a credential (Kestrel quotes a refused request line in its
/// message): the same text, masked, and the same stack trace. An exception without one is passed as it is.
/// </summary>
internal sealed class RedactedException : Exception
{
    private readonly string _text;
    private readonly string? _stackTrace;

    private RedactedException(string message, string text, Exception original) : base(message)
    {
        _text = text;
        _stackTrace = original.StackTrace;
        Source = original.Source;
        HResult = original.HResult;
    }

    public override string? StackTrace => _stackTrace;

    public override string ToString() => _text;

    public static Exception? Of(Exception? exception, LogRedactor redactor)
    {
        if (exception is null)
        {
            return null;
        }

        var text = exception.ToString();
        var redacted = redactor.Redact(text);
        return ReferenceEquals(text, redacted) ? exception : new RedactedException(redactor.Redact(exception.Message), redacted, exception);
    }
}
