using Hub.Store;
using Hub.Store.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hub.Tests.Security;

/// <summary>
/// The text-level redactor every log entry goes through (<see cref="LogRedactor"/>), and its wiring
/// (<see cref="RedactingLoggerFactory"/>): message, structured values, exception and scopes. The real
/// process's console output is grepped by tests/e2e/logs.test.mjs.
/// </summary>
public sealed class LogRedactorTests
{
    private const string ApiKey = "hubk_AbC-123_xyzXYZ0987654321abcdefghijklmnopq";
    private const string Session = "hubs_Zz9-8_yy7xx6ww5vv4uu3tt2ss1rr0qqPPooNNmm";
    private const string Jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZ2VudC03In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
    private const string OperatorKey = "my-long-operator-secret-0123456789";

    private readonly LogRedactor _redactor = new([OperatorKey]);

    [Theory]
    [InlineData("GET /hubs/agent?access_token=" + Session + "&id=abc", "GET /hubs/agent?access_token=[redacted]&id=abc")]
    [InlineData("POST /hubs/agent/negotiate?negotiateVersion=1&ACCESS_TOKEN=opaque%2Fvalue HTTP/1.1", "POST /hubs/agent/negotiate?negotiateVersion=1&ACCESS_TOKEN=[redacted] HTTP/1.1")]
    [InlineData("key " + ApiKey + " refused", "key hubk_[redacted] refused")]
    [InlineData("'Authorization Bearer " + Session + "\\x0D\\x0A'", "'Authorization Bearer hubs_[redacted]\\x0D\\x0A'")]
    [InlineData("signing key hub_embed_Qx-1_z created", "signing key hub_embed_[redacted] created")]
    [InlineData("secret whsec_q+/8Zm0=, sent", "secret whsec_[redacted], sent")]
    [InlineData("token=" + Jwt + ".", "token=[redacted].")]
    [InlineData("admin " + OperatorKey + "!", "admin [redacted]!")]
    public void Masks_credentials_and_keeps_the_rest_of_the_line(string line, string expected)
    {
        Assert.Equal(expected, _redactor.Redact(line));
    }

    [Theory]
    [InlineData("Request finished HTTP/1.1 GET http://127.0.0.1/api/v1/calls?limit=50 - 200 1234 application/json 3.2ms")]
    [InlineData("keys start with hubk_ and sessions with hubs_")]
    [InlineData("github_token and xhubk_notakey are other words; eyJ alone is not a JWT; a.b.c neither")]
    [InlineData("")]
    public void Leaves_a_line_without_credentials_as_the_same_string(string line)
    {
        Assert.Same(line, _redactor.Redact(line));
    }

    [Fact]
    public void Masks_a_line_already_masked_to_itself()
    {
        var once = _redactor.Redact($"access_token={Session} {ApiKey} {Jwt}");

        Assert.Equal("access_token=[redacted] hubk_[redacted] [redacted]", once);
        Assert.Equal(once, _redactor.Redact(once));
    }

    [Fact]
    public void Short_configured_literals_are_not_masked()
    {
        Assert.Equal("the word short stays", new LogRedactor(["short", null, ""]).Redact("the word short stays"));
    }

    [Fact]
    public void Every_part_of_an_entry_is_masked_before_a_provider_sees_it()
    {
        var capture = new CaptureProvider();
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(logging => logging.AddProvider(capture).SetMinimumLevel(LogLevel.Trace)), _redactor);
        var logger = factory.CreateLogger("Hub.Test");

        using (logger.BeginScope("connection for {Token}", Session))
        {
            logger.LogError(new InvalidOperationException($"lookup with {ApiKey} failed", new ArgumentException(Jwt)),
                "Call {CallId} of {Count} with {Url}", "call-1", 3, new Uri($"https://crm.example/hook?access_token={Session}"));
        }

        var entry = Assert.Single(capture.Entries);
        Assert.Equal("Call call-1 of 3 with https://crm.example/hook?access_token=[redacted]", entry.Message);
        Assert.Equal("call-1", entry.Values["CallId"]);
        Assert.Equal(3, entry.Values["Count"]);
        Assert.Equal("https://crm.example/hook?access_token=[redacted]", entry.Values["Url"]);
        Assert.Equal("Call {CallId} of {Count} with {Url}", entry.Values["{OriginalFormat}"]);
        Assert.Equal("lookup with hubk_[redacted] failed", entry.Exception!.Message);
        Assert.Contains("System.InvalidOperationException: lookup with hubk_[redacted] failed", entry.Exception.ToString(), StringComparison.Ordinal);
        Assert.Contains("System.ArgumentException: [redacted]", entry.Exception.ToString(), StringComparison.Ordinal);
        Assert.Equal("connection for hubs_[redacted]", Assert.Single(entry.Scopes));
        Assert.Equal("hubs_[redacted]", entry.ScopeValues["Token"]);
        Assert.DoesNotContain(Session, entry.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_exception_without_a_credential_reaches_the_provider_unchanged()
    {
        var capture = new CaptureProvider();
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(logging => logging.AddProvider(capture)), _redactor);
        var exception = new TimeoutException("the store did not answer");

        factory.CreateLogger("Hub.Test").LogWarning(exception, "Retrying");

        Assert.Same(exception, Assert.Single(capture.Entries).Exception);
    }

    [Fact]
    public void A_host_with_the_hub_logging_masks_entries_for_providers_added_after_it()
    {
        var capture = new CaptureProvider();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Hub:AdminApiKey"] = OperatorKey });
        builder.Logging.AddHubLogRedaction();
        builder.Logging.AddProvider(capture);
        using var host = builder.Build();

        host.Services.GetRequiredService<ILogger<LogRedactorTests>>().LogInformation("admin {Key} and {Session}", OperatorKey, Session);

        Assert.Equal("admin [redacted] and hubs_[redacted]", Assert.Single(capture.Entries).Message);
    }

    private sealed record Entry(string Message, IReadOnlyDictionary<string, object?> Values, Exception? Exception,
        IReadOnlyList<string> Scopes, IReadOnlyDictionary<string, object?> ScopeValues)
    {
        public override string ToString() =>
            string.Join('\n', [Message, .. Values.Values.Select(value => $"{value}"), Exception?.ToString(), .. Scopes, .. ScopeValues.Values.Select(value => $"{value}")]);
    }

    /// <summary>Records what a provider is given, scopes included (as the console logger reads them).</summary>
    private sealed class CaptureProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public List<Entry> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new CaptureLogger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class CaptureLogger(CaptureProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scopes = new List<string>();
                var scopeValues = new Dictionary<string, object?>();
                provider._scopes.ForEachScope((scope, _) =>
                {
                    scopes.Add(scope?.ToString() ?? "");
                    foreach (var (key, value) in scope as IEnumerable<KeyValuePair<string, object?>> ?? [])
                    {
                        scopeValues[key] = value;
                    }
                }, (object?)null);
                var values = (state as IEnumerable<KeyValuePair<string, object?>> ?? []).ToDictionary(pair => pair.Key, pair => pair.Value);
                lock (provider.Entries)
                {
                    provider.Entries.Add(new Entry(formatter(state, exception), values, exception, scopes, scopeValues));
                }
            }
        }
    }
}
